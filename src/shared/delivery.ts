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

/** The schedule's wait after attempt `attempt` (1-based): initialInterval * coefficient^(attempt-1), capped. */
export function scheduleBackoffMs(schedule: DeliverySchedule, attempt: number): number {
  const delay = schedule.initialIntervalMs * schedule.backoffCoefficient ** Math.max(0, attempt - 1);
  return Math.min(delay, schedule.maximumIntervalMs);
}

export interface DeliveryInput {
  subscriptionId: string;
  event: OutboundEvent;
  schedule: DeliverySchedule;
  /**
   * The subscription's content filter failed on this event (docs/subscriptions.md "Content filters"): the
   * delivery sends nothing and ends at once as `filtered-error`, with this reason, so the failure is seen.
   */
  filterError?: string;
  /**
   * Attempts made by earlier invocations of the delivery activity (gate, retry now): the attempt number
   * the receiver sees is this plus the invocation's own attempt. Absent on the first invocation.
   */
  attemptBase?: number;
  /** The gate's permit: lets the invocation's first attempt send while the subscription is held or throttled. */
  permitted?: boolean;
  /** The permit's number, for the gate's `done` (src/shared/gate.ts). */
  grant?: number;
}

/** Details of the AwaitingGate failure: why, and at which of the invocation's attempts (nothing was sent). */
export interface AwaitingGateDetails {
  reason: 'held' | 'throttled';
  attempt: number;
  /** The hold's budgetRuns: time held counts against the retry window. */
  budgetRuns?: boolean;
}

/** Details of a local attempt's failure (src/activities/deliver.ts `forWorkflow`). */
export interface AttemptFailureDetails {
  /** What a regular attempt signals as attemptFailed. */
  report?: AttemptReport;
  /** The receiver's Retry-After. */
  nextRetryDelayMs?: number;
}

/** Memo key of a delivery workflow: attempts made by earlier invocations (its pending activity's attempt counts from there). */
export const ATTEMPT_BASE_MEMO = 'attemptBase';

/**
 * Memo key of a delivery workflow: when the attempt after a failed local first attempt starts (ISO). Until
 * then the delivery waits on a timer, with no pending activity; retry now ends that wait too.
 */
export const FIRST_RETRY_AT_MEMO = 'firstRetryAt';
/** Memo key of a delivery workflow: the failed local first attempt's failure message, for that wait. */
export const FIRST_FAILURE_MEMO = 'firstFailure';

/** Sends the next attempt of a delivery in backoff now (`POST /api/deliveries/:id/retry-now`). */
export const retryNowSignal = defineSignal<[]>('retryNow');

/** The first bytes of a receiver's answer: text as is, anything else as base64. */
export interface AttemptBody {
  /** Size of the whole body as read (at most 64 KiB are read; `truncated` says more was cut). */
  bytes: number;
  encoding: 'text' | 'base64';
  /** The first 4 KiB (ATTEMPT_BODY_LIMIT), as text or base64. */
  content: string;
  truncated: boolean;
}

/**
 * One delivery attempt as the attempt log keeps it: what was sent (event and webhook ids) and what the
 * receiver answered, or why there was no answer. It travels encrypted (payload codec) in the delivery
 * workflow's own history: in the `attemptFailed` signal of a failed attempt, in the activity result of
 * the successful one. Never logged, never in search attributes or failure messages.
 */
export interface AttemptRecord {
  attempt: number;
  /** ISO-8601, when the request was sent. */
  startedAt: string;
  durationMs: number;
  eventId: string;
  /** The `webhook-id` header sent (standard-webhooks subscriptions). */
  webhookId?: string;
  /** delivered, retry (Temporal tries again by the policy) or stop (no further attempt). */
  outcome: 'delivered' | 'retry' | 'stop';
  httpStatus?: number;
  /** The reason phrase of the status (`Service Unavailable`). */
  statusText?: string;
  /** Allowlisted response headers only (content-type, retry-after, x-request-id, location, date, ...). */
  headers?: Record<string, string>;
  body?: AttemptBody;
  /** The failure type the attempt ended with: `Http503`, `ConnectionError`, `SsrfRefused`. */
  failureType?: string;
  /** No HTTP answer, in words: `connection refused`, `no response within 10000 ms (timeout)`, `TLS: ...`. */
  error?: string;
}

/** Bytes of a response body an attempt record keeps. */
export const ATTEMPT_BODY_LIMIT = 4 * 1024;

/** Sent by the delivery activity to its own workflow after a failed attempt, for live search attributes. */
export interface AttemptReport {
  attempt: number;
  httpStatus?: number;
  error: string;
  /** The attempt log's record of this attempt (read back from history by src/temporal/attempts.ts). */
  record?: AttemptRecord;
}
export const attemptFailedSignal = defineSignal<[AttemptReport]>('attemptFailed');

/** held / waiting: at the subscription's gate (held, resp. throttled). */
export type DeliveryStatus = 'delivering' | 'delivered' | 'failed' | 'skipped' | 'filtered-error' | 'held' | 'waiting';

export interface DeliveryAttemptResult {
  status: 'delivered' | 'skipped';
  httpStatus?: number;
  attempt: number;
  reason?: string;
  /** Which follow-up snapshot the delivered body carried (subscriptions with refreshFollowUpAfter). */
  fetchedAt?: string;
  refreshFailed?: OutboundEvent['refreshFailed'];
  /** The successful attempt's record (activity result only: the workflow's result leaves it out). */
  record?: AttemptRecord;
}

export interface DeliveryResult extends Omit<DeliveryAttemptResult, 'record' | 'status'> {
  status: DeliveryAttemptResult['status'] | 'filtered-error';
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
  /** The content filter failed on the event: the delivery only records why (DeliveryInput.filterError). */
  filterError?: string;
}

export const deliveryWorkflowId = (eventId: string, subscriptionId: string) =>
  boundedWorkflowId(`delivery/${eventId}/${subscriptionId}`);

/** Event types of the test trigger. */
export const TEST_EVENT_TYPE = 'hookflow.test';

/** The delivery workflow's signature, for the client side (which must not import workflow code). */
export type DeliveryWorkflow = (input: DeliveryInput) => Promise<DeliveryResult>;
