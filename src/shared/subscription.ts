import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { EventFilter } from './inbound';

/** The subscription model and the subscription workflow's messages and id: shared by the API and the workflows. */

export const SIGNATURE_SCHEMES = ['ms-signature', 'x-signature', 'standard-webhooks'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];
export const RETRY_POLICIES = ['none', 'one-day', 'custom'] as const;
export type RetryPolicyName = (typeof RETRY_POLICIES)[number];
/**
 * `retryPolicy: custom`: the subscription's own exponential backoff (docs/subscriptions.md "Custom retry
 * schedule"): attempts after initialIntervalMs, each wait backoffCoefficient times the previous, capped
 * at maximumIntervalMs, for at most maximumDurationMs from the first attempt; then the delivery fails.
 */
export interface RetrySchedule {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  maximumDurationMs: number;
}
/** Bounds of a custom schedule (checked by the API's schema and the subscription workflow's validator). */
export const RETRY_SCHEDULE_LIMITS = {
  minIntervalMs: 1_000,
  maxIntervalMs: 24 * 3_600_000,
  minCoefficient: 1,
  maxCoefficient: 10,
  minDurationMs: 1_000,
  maxDurationMs: 7 * 24 * 3_600_000,
} as const;
/** `entity`: the subscription's deliveries about one entity run one at a time, in order, in a lane (./lane.ts). */
export const ORDERINGS = ['none', 'entity'] as const;
export type Ordering = (typeof ORDERINGS)[number];

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
  /** With `retryPolicy: custom` (required then; ignored otherwise). */
  retrySchedule?: RetrySchedule;
  auth: SubscriptionAuth;
  /** Appended as `?key=` (the Automation API's installation key). */
  key?: SealedSecret;
  timeoutMs: number;
  signature: SignatureScheme;
  tls: SubscriptionTls;
  /** `entity`: events about the same entity arrive in the order hookflow accepted them (docs/beyond-delivery.md "Ordered delivery per entity"). */
  ordering?: Ordering;
  /** Why hookflow disabled it (e.g. the receiver answered 410 Gone). */
  disabledReason?: string;
  /** Coalescing of storms (docs/beyond-delivery.md "Coalescing stock storms"): one delivery per key and window. */
  coalesce?: CoalesceSettings;
  /** Re-fetch the follow-up before an attempt that starts this long after it was fetched (docs/beyond-delivery.md "Fresh data at send time"). */
  refreshFollowUpAfterMs?: number;
  /** The secret that replaces `secret` (sealed like it): see ./secret-rotation.ts and docs/security.md. */
  nextSecret?: SealedSecret;
  /** Standard Webhooks: both signatures until this instant (ISO-8601), then only the next secret's. */
  overlapUntil?: string;
  /** Single-signature schemes: the old secret signs until this instant (ISO-8601), the next one from then on. */
  rotateAt?: string;
  /** Content filter (JSONata) over the outbound event: deliver only when it yields true (src/subscriptions/expressions.ts). */
  filterExpression?: string;
  /** The body (and extra headers) the receiver gets instead of hookflow's envelope, made by JSONata; signed as sent. */
  transform?: SubscriptionTransform;
  /** Present = held: nothing is sent until released (docs/operations.md "Hold and release"). */
  hold?: SubscriptionHold;
  /** Deliveries per second at most, across all workers (docs/operations.md "Throttle"). */
  rateLimit?: number;
  /** Requests to the receiver at once, at most. */
  maxInFlight?: number;
  /** When hookflow holds a failing subscription by itself (docs/operations.md "Breaker"); on with defaults when absent. */
  breaker?: BreakerSettings;
  createdAt: string;
  updatedAt: string;
}

/** A subscription's transformation: `body` a JSONata expression; each header a JSONata expression or a literal. */
export interface SubscriptionTransform {
  body: string;
  headers?: Record<string, string>;
}

/** A hold: by an operator, or by the circuit breaker (which probes and releases on its own). */
export interface SubscriptionHold {
  since: string;
  by: 'operator' | 'breaker';
  reason?: string;
  /** true: time held counts against each delivery's retry window (default: it does not). */
  budgetRuns?: boolean;
}

/** The breaker: hold after `consecutiveFailures` failed attempts or `failingForMs` of failing, whichever first. */
export interface BreakerSettings {
  enabled: boolean;
  consecutiveFailures: number;
  failingForMs: number;
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

export interface SubscriptionWorkflowInput {
  subscription: Subscription | null;
  /** Test signals received but not yet sent (carried over continue-as-new). */
  pendingTests?: number;
}
/** The subscription workflow's signature, for the client side (which must not import workflow code). */
export type SubscriptionWorkflow = (input: SubscriptionWorkflowInput) => Promise<void>;

export const applySubscriptionUpdate = defineUpdate<Subscription, [SubscriptionPatch]>('apply');
export const deleteSubscriptionUpdate = defineUpdate<void>('delete');
export const getSubscriptionQuery = defineQuery<Subscription | null>('get');
/** Memo key under which a subscription workflow keeps its current state (read with describe, no workflow task). */
export const SUBSCRIPTION_MEMO = 'subscription';
/** Ongoing's Test button: `temporal workflow signal --workflow-id subscription/<id> --name test`. */
export const testSignal = defineSignal<[]>('test');
/** `temporal workflow signal --workflow-id subscription/<id> --name hold [--input '{"reason":"..."}']`. */
export const holdSignal = defineSignal<[HoldRequest?]>('hold');
/** `temporal workflow signal --workflow-id subscription/<id> --name release`; by `breaker` releases only a breaker's hold. */
export const releaseSignal = defineSignal<[{ by?: SubscriptionHold['by'] }?]>('release');
export interface HoldRequest {
  by?: SubscriptionHold['by'];
  reason?: string;
  budgetRuns?: boolean;
}

/** Does a subscription's trigger list cover this event type? */
export function triggersMatch(triggers: readonly string[], type: string): boolean {
  return triggers.some(
    (trigger) =>
      trigger === '*' || trigger === type || (trigger.endsWith('.*') && type.startsWith(trigger.slice(0, -1))),
  );
}
