/** Types shared by the front door (client side) and the inbound workflow (worker side). */

import { boundedWorkflowId } from './bounded';
import type { SourceKindName } from './source-kind-name';

/** One notification from a source, parsed and validated by the front door. */
export interface InboundEvent {
  sourceId: string;
  /** `api` for events published through POST /api/events. */
  sourceKind: SourceKindName | 'api';
  /** The source's own id of this notification; the dedup key inside the source. */
  eventKey: string;
  /** A UUID derived from source id and event key: the same for every retry of the notification. */
  uuid: string;
  /** The source's event name: Extend `Action`, Ongoing `webhookTemplate`, Automation `eventType`. */
  eventType: string;
  /** False for actions/event types hookflow has no schema for: accepted and recorded, never dropped. */
  recognised: boolean;
  /** The business number users search by: OrderNumber, ProductNumber, orderId, ... */
  entity?: string;
  warehouse?: string;
  goodsOwnerId?: number;
  receivedAt: string;
  /** Index of the notification in its request (acceptance order inside one request). */
  position?: number;
  /** The notification itself (for Extend: `{ Id, Attempt, NotificationId, Action, Details }`). */
  payload: Record<string, unknown>;
}

export interface EventFilter {
  warehouses?: string[];
  goodsOwners?: number[];
}

export type FollowUpPlan = { kind: 'fetch'; url: string } | { kind: 'none' } | { kind: 'unavailable'; reason: string };

export interface InboundWorkflowInput {
  event: InboundEvent;
  /** The source's filter as configured when the notification was accepted. */
  filter: EventFilter;
  followUp: FollowUpPlan;
}

export type InboundStatus =
  'received' | 'filtered' | 'fetching' | 'enriched' | 'follow-up-not-found' | 'follow-up-failed' | 'handed-off';

export interface FollowUpResult {
  url: string;
  status: number;
  data: unknown;
  /** When it was fetched (ISO-8601). */
  fetchedAt?: string;
}

export interface EnrichedEvent {
  event: InboundEvent;
  followUp?: FollowUpResult;
}

export interface InboundWorkflowResult {
  status: InboundStatus;
  reason?: string;
  enriched?: EnrichedEvent;
  /** Delivery workflows started for the matching subscriptions. */
  deliveries?: Array<{ subscriptionId: string; workflowId: string }>;
}

/** The inbound workflow's signature, for the client side (which must not import workflow code). */
export type InboundWorkflow = (input: InboundWorkflowInput) => Promise<InboundWorkflowResult>;

export function inboundWorkflowId(sourceId: string, eventKey: string): string {
  return boundedWorkflowId(`inbound/${sourceId}/${eventKey}`);
}
