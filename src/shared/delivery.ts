import { defineSignal } from '@temporalio/workflow';
import { boundedWorkflowId } from './bounded';
import type { SourceKindName } from './source-kind-name';
import type { LaneTiming } from './lane-timing';
import type { RetryPolicyName } from './subscription';

/** The delivery contract: what a delivery workflow takes and returns, its messages and id. */

/** What a subscriber receives, built from an enriched inbound event, a published event or a test. */
export interface OutboundEvent {
  /** Stable id of the event, the same for every subscription and attempt (`extend/<key>`, `api/<key>`). */
  id: string;
  /** A UUID form of the id, for envelopes that want one (Extend's NotificationId). */
  uuid: string;
  /** Namespaced type: `extend-commerce.OrderCreated`, `ongoing-wms.OrderPicked`, or a published type. */
  type: string;
  occurredAt: string;
  source?: { id: string; kind: SourceKindName | 'api' };
  entity?: string;
  warehouse?: string;
  goodsOwnerId?: number;
  /** The notification (Extend: its Details), or the published data. */
  data: Record<string, unknown>;
  /** Data fetched from the source's API, when a follow-up was configured. */
  followUp?: unknown;
  /** When `followUp` was fetched (ISO-8601); delivered next to it. */
  fetchedAt?: string;
  /** Where `followUp` came from, for a refresh at send time (`refreshFollowUpAfter`). */
  followUpSource?: { sourceId: string; url: string };
  /** Set on the attempt's copy when a refresh at send time failed: the older snapshot is delivered. */
  refreshFailed?: 'not-found' | 'unavailable' | 'rejected';
  /** Set when this delivery stands for several notifications (coalescing): how many, including itself. */
  coalesced?: { count: number; replaced: number };
}

/** The retry schedule of a delivery, resolved from the subscription's policy when the delivery starts. */
export interface DeliverySchedule {
  policy: RetryPolicyName;
  /** The receiver's connection timeout. */
  timeoutMs: number;
  /** one-day only: exponential backoff inside a window, then the delivery fails. */
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  windowMs: number;
}

export interface DeliveryInput {
  subscriptionId: string;
  event: OutboundEvent;
  schedule: DeliverySchedule;
}

/** Sent by the delivery activity to its own workflow after a failed attempt, for live search attributes. */
export interface AttemptReport {
  attempt: number;
  httpStatus?: number;
  error: string;
}
export const attemptFailedSignal = defineSignal<[AttemptReport]>('attemptFailed');

export type DeliveryStatus = 'delivering' | 'delivered' | 'failed' | 'skipped';

export interface DeliveryAttemptResult {
  status: 'delivered' | 'skipped';
  httpStatus?: number;
  attempt: number;
  reason?: string;
  /** Which follow-up snapshot the delivered body carried (subscriptions with refreshFollowUpAfter). */
  fetchedAt?: string;
  refreshFailed?: OutboundEvent['refreshFailed'];
}

export interface DeliveryResult extends DeliveryAttemptResult {
  subscriptionId: string;
  eventId: string;
}

/** A delivery the fan-out decided on: the inbound workflow starts it as a child workflow. */
export interface PlannedDelivery {
  subscriptionId: string;
  workflowId: string;
  schedule: DeliverySchedule;
  /** Set for a subscription with `ordering: entity`: the delivery goes through the entity's lane. */
  lane?: LaneTiming;
  /** The subscription coalesces this event: it goes to this coalescer workflow instead (`workflowId` is then the coalescer's). */
  coalesce?: { windowMs: number; key: Record<string, string>; deliveryWorkflowId: string };
}

export const deliveryWorkflowId = (eventId: string, subscriptionId: string) =>
  boundedWorkflowId(`delivery/${eventId}/${subscriptionId}`);

/** Event types of the test trigger. */
export const TEST_EVENT_TYPE = 'hookflow.test';

/** The delivery workflow's signature, for the client side (which must not import workflow code). */
export type DeliveryWorkflow = (input: DeliveryInput) => Promise<DeliveryResult>;
