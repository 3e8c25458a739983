import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { boundedWorkflowId } from './bounded';
import type { EventFilter, SourceKindName } from './inbound';
import type { LaneTiming, Ordering } from './lane';

/** Types and message definitions shared by the API (client side) and the outbound workflows. */

export const SIGNATURE_SCHEMES = ['ms-signature', 'x-signature', 'standard-webhooks'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];
export const RETRY_POLICIES = ['none', 'one-day'] as const;
export type RetryPolicyName = (typeof RETRY_POLICIES)[number];

/** Secrets are stored sealed (see src/security/sealed.ts): workflows only ever carry `sealed:v1:...`. */
export type SealedSecret = string;

export type SubscriptionAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: SealedSecret }
  | { type: 'x-auth-token'; token: SealedSecret };

export interface SubscriptionTls {
  /** Verify the receiver's certificate (default). Turning it off is an explicit, logged opt-in. */
  verify: boolean;
  /** PEM of the CA(s) that signed the receiver's certificate, when not a public CA. */
  ca?: string;
  /** PEM client certificate and sealed key for mutual TLS. */
  clientCert?: string;
  clientKey?: SealedSecret;
}

export interface Subscription {
  id: string;
  name: string;
  contactEmail: string;
  url: string;
  secret?: SealedSecret;
  active: boolean;
  /** Event types (`extend-commerce.OrderCreated`), namespace wildcards (`ongoing-wms.*`) or `*`. */
  triggers: string[];
  filter: EventFilter;
  retryPolicy: RetryPolicyName;
  auth: SubscriptionAuth;
  /** Appended as `?key=` (the Automation API's installation key). */
  key?: SealedSecret;
  timeoutMs: number;
  signature: SignatureScheme;
  tls: SubscriptionTls;
  /** `entity`: events about the same entity arrive in the order hookflow accepted them (README "Ordered delivery per entity"). */
  ordering?: Ordering;
  /** Why hookflow disabled it (e.g. the receiver answered 410 Gone). */
  disabledReason?: string;
  /** Coalescing of storms (README "Coalescing stock storms"): one delivery per key and window. */
  coalesce?: CoalesceSettings;
  /** Re-fetch the follow-up before an attempt that starts this long after it was fetched (README "Fresh data at send time"). */
  refreshFollowUpAfterMs?: number;
  createdAt: string;
  updatedAt: string;
}

/** `coalesce` of a subscription, stored form (the API takes `window` as ISO-8601). */
export interface CoalesceSettings {
  windowMs: number;
  /** Field names read from the notification's Details (Extend) or top level (other sources). */
  key: string[];
  /** Event types it applies to: bare (`AvailableBalanceChanged`) or namespaced (`extend-commerce.AvailableBalanceChanged`). */
  types: string[];
}

/** A partial change; `null` clears an optional field. */
export type SubscriptionPatch = Partial<{ [K in keyof Subscription]: Subscription[K] | null }>;

export const subscriptionWorkflowId = (id: string) => `subscription/${id}`;

export const applySubscriptionUpdate = defineUpdate<Subscription, [SubscriptionPatch]>('apply');
export const deleteSubscriptionUpdate = defineUpdate<void>('delete');
export const getSubscriptionQuery = defineQuery<Subscription | null>('get');
/** Memo key under which a subscription workflow keeps its current state (read with describe, no workflow task). */
export const SUBSCRIPTION_MEMO = 'subscription';
/** Ongoing's Test button: `temporal workflow signal --workflow-id subscription/<id> --name test`. */
export const testSignal = defineSignal<[]>('test');

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

export const deliveryWorkflowId = (eventId: string, subscriptionId: string) => boundedWorkflowId(`delivery/${eventId}/${subscriptionId}`);

/** Event types of the test trigger. */
export const TEST_EVENT_TYPE = 'hookflow.test';

/** Does a subscription's trigger list cover this event type? */
export function triggersMatch(triggers: readonly string[], type: string): boolean {
  return triggers.some((trigger) => trigger === '*' || trigger === type || (trigger.endsWith('.*') && type.startsWith(trigger.slice(0, -1))));
}

/** The delivery workflow's signature, for the client side (which must not import workflow code). */
export type DeliveryWorkflow = (input: DeliveryInput) => Promise<DeliveryResult>;
