import { defineSignal } from '@temporalio/workflow';
import { TEST_EVENT_TYPE } from './delivery';
import type { BreakerSettings, SubscriptionHold } from './subscription';

/**
 * The health contract: a `health/<subscriptionId>` workflow exists only while a subscription is failing
 * (and for a grace period after it recovered). Delivery attempts that fail signal-with-start it; it keeps
 * its state in its memo (read with describe, never a query) and alerts on state changes only.
 */

export const healthWorkflowId = (subscriptionId: string) => `health/${subscriptionId}`;

/** A failed delivery attempt, as the delivery activity reports it. Never a body: status and words only. */
export interface FailedAttemptReport {
  /** When the attempt failed (ISO-8601). */
  at: string;
  attempt: number;
  httpStatus?: number;
  error: string;
  eventType: string;
  /** How many failed attempts this report stands for (a worker sums them up per second); 1 when absent. */
  failures?: number;
}
export const failedAttemptSignal = defineSignal<[FailedAttemptReport]>('failedAttempt');

export type HealthState = 'healthy' | 'failing';

/** Memo key of the health workflow's state. */
export const HEALTH_MEMO = 'health';

/** What the health workflow keeps in its memo (and carries over continue-as-new). */
export interface HealthMemo {
  subscriptionId: string;
  state: HealthState;
  /** failing: the first failed attempt of this outage; healthy: when the recovery was seen. */
  since: string;
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  lastFailure?: { at: string; httpStatus?: number; error: string };
  /** The latest delivery seen delivered after a failure (the recovery). */
  lastSuccessAt?: string;
  /** Deliveries of this subscription waiting for a retry, at the last check. */
  inBackoff: number;
  /** The last visibility check (ISO-8601). */
  checkedAt?: string;
  /** The subscription was seen disabled (announced once; cleared when it is enabled again). */
  disabledSeen?: boolean;
  /** Whether the current outage is announced as an operational event (false when only hookflow.* deliveries fail). */
  announced: boolean;
  /** Present while the breaker holds the subscription. */
  tripped?: { at: string; reason: string };
  /** The breaker counts from here (a release during the outage starts the count again). */
  breakerFrom?: { failures: number; at: string };
}

/** The breaker's settings when a subscription names none (docs/operations.md "Breaker"). */
export const BREAKER_DEFAULTS: BreakerSettings = { enabled: true, consecutiveFailures: 10, failingForMs: 15 * 60_000 };

export function breakerSettingsOf(breaker: Partial<BreakerSettings> | undefined): BreakerSettings {
  return { ...BREAKER_DEFAULTS, ...breaker };
}

/** What the health workflow reads of a subscription for its breaker. */
export interface BreakerView {
  /** False once the subscription is deleted. */
  exists: boolean;
  settings: BreakerSettings;
  /** Who holds the subscription, when it is held. */
  heldBy?: SubscriptionHold['by'];
}

/** The breaker's trip: held now, or not (already held by someone else, or deleted). */
export interface TripResult {
  held: boolean;
  heldBy?: SubscriptionHold['by'];
}

export interface HealthWorkflowInput {
  subscriptionId: string;
  /** How often a failing subscription is checked for recovery (`alerts.healthCheckInterval`). */
  checkIntervalMs: number;
  /** How long the workflow stays after a recovery before it ends. */
  graceMs: number;
  /** Carried over continue-as-new. */
  memo?: HealthMemo;
}
/** The health workflow's signature, for the client side (which must not import workflow code). */
export type HealthWorkflow = (input: HealthWorkflowInput) => Promise<void>;

/** Operational events hookflow publishes through its own subscriptions. */
export const OperationalEvent = {
  failing: 'hookflow.subscription.failing',
  recovered: 'hookflow.subscription.recovered',
  disabled: 'hookflow.subscription.disabled',
  held: 'hookflow.subscription.held',
  released: 'hookflow.subscription.released',
  deliveryFailed: 'hookflow.delivery.failed',
} as const;

/** A state change the health workflow alerts about (one e-mail, at most one event). */
export interface HealthTransition {
  subscriptionId: string;
  /**
   * `disabled`: the subscription was disabled during an outage (by hookflow on 410 Gone, or by an operator);
   * `held` / `released`: the breaker held it, and the hold ended (a probe succeeded, or an operator released it).
   */
  state: HealthState | 'disabled' | 'held' | 'released';
  /** Why it was disabled or held. */
  reason?: string;
  /** Who held it (held, released). */
  by?: SubscriptionHold['by'];
  since: string;
  consecutiveFailures: number;
  lastFailure?: { httpStatus?: number; error: string };
  /** Publish an operational event (false: e-mail only, no alert about alerts). */
  publish: boolean;
  /** E-mail the contact (false: the event of an outage e-mailed already, announced once real traffic failed too). */
  email: boolean;
}

/** A delivery that exhausted its policy, found by the health check. */
export interface FailedDelivery {
  deliveryId: string;
  eventId?: string;
  eventType?: string;
  closedAt: string;
  httpStatus?: number;
  attempts?: number;
}

export interface HealthCheck {
  /** False once the subscription is deleted: its health workflow ends. */
  exists: boolean;
  /** Set when the subscription is disabled, with its reason when hookflow disabled it. */
  disabled?: { reason?: string };
  /** A delivery delivered after `since` (its close time), if any: the receiver is back. */
  deliveredAt?: string;
  inBackoff: number;
  /** The breaker's view of the subscription, at this check. */
  breaker?: BreakerView;
  /** Deliveries that failed after `failedAfter` (without operational events), at most `cap`. */
  failed: FailedDelivery[];
  /** How many more failed than listed. */
  moreFailed: number;
}

/** Operational events are hookflow's own (`hookflow.*`), except the Test button's event. */
export function isOperationalEventType(type: string): boolean {
  return type.startsWith('hookflow.') && type !== TEST_EVENT_TYPE;
}

/** An operational event about subscription S is never delivered to S itself (no alert loops). */
export function isAboutSubscription(event: { type: string; data: Record<string, unknown> }, subscriptionId: string) {
  return isOperationalEventType(event.type) && event.data.subscriptionId === subscriptionId;
}
