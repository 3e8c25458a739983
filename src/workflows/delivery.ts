import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import {
  attemptFailedSignal,
  type DeliveryInput,
  type DeliveryResult,
  type DeliverySchedule,
  type DeliveryStatus,
} from '../shared/delivery';
import { FailureType } from '../shared/failure-types';
import { SA } from '../shared/search-attributes';

/** Slack over the receiver timeout for signing, connecting and reporting. */
const ACTIVITY_OVERHEAD_MS = 10_000;

/**
 * The retry table (docs/subscriptions.md, "Retry policies"): `none` = exactly one attempt; `one-day` = exponential
 * backoff from initialInterval by backoffCoefficient up to maximumInterval, all inside a window
 * (24 h by default) measured from the first attempt, after which the delivery fails.
 */
export function deliveryActivityOptions(schedule: DeliverySchedule): ActivityOptions {
  const startToCloseTimeout = schedule.timeoutMs + ACTIVITY_OVERHEAD_MS;
  if (schedule.policy === 'none') return { startToCloseTimeout, retry: { maximumAttempts: 1 } };
  // one-day and custom (the subscription's own values, its maximumDurationMs as the window; at most 7 days):
  // the schedule carries them, resolved when the delivery started (src/activities/fan-out.ts)
  return {
    startToCloseTimeout,
    scheduleToCloseTimeout: schedule.windowMs,
    retry: {
      initialInterval: schedule.initialIntervalMs,
      backoffCoefficient: schedule.backoffCoefficient,
      maximumInterval: schedule.maximumIntervalMs,
      // no maximumAttempts: the window (scheduleToCloseTimeout) ends the retries
    },
  };
}

/**
 * One event to one subscription, `delivery/<eventId>/<subscriptionId>`. The activity signs and POSTs on
 * every attempt; Temporal retries it by the subscription's policy. A delivery that runs out of
 * attempts fails the workflow (red in the Web UI), from where it can be reset to retry.
 */
export async function deliveryWorkflow(input: DeliveryInput): Promise<DeliveryResult> {
  // The content filter failed at planning: nothing is sent; the record (status filtered-error from the start) says why.
  if (input.filterError !== undefined)
    return {
      status: 'filtered-error',
      attempt: 0,
      reason: input.filterError,
      subscriptionId: input.subscriptionId,
      eventId: input.event.id,
    };
  const { deliver } = proxyActivities<Activities>(deliveryActivityOptions(input.schedule));
  let lastHttpStatus: number | undefined;
  let lastError: string | undefined;

  const setStatus = (status: DeliveryStatus, attempts?: number) =>
    upsertSearchAttributes([
      { key: SA.status, value: status },
      ...(attempts !== undefined ? [{ key: SA.attempts, value: attempts }] : []),
      ...(lastHttpStatus !== undefined ? [{ key: SA.httpStatus, value: lastHttpStatus }] : []),
    ]);

  let attempts = 0;
  setHandler(attemptFailedSignal, (report) => {
    attempts = Math.max(attempts, report.attempt);
    lastHttpStatus = report.httpStatus ?? lastHttpStatus;
    lastError = report.error;
    setStatus('delivering', attempts);
  });

  try {
    // The attempt's record stays in the activity's result (the attempt log): a parent awaiting this
    // delivery (a lane) does not need the receiver's answer in its own history.
    const attemptResult = await deliver(input);
    const outcome = { ...attemptResult };
    delete outcome.record;
    lastHttpStatus = outcome.httpStatus ?? lastHttpStatus;
    setStatus(outcome.status, outcome.attempt);
    return { ...outcome, subscriptionId: input.subscriptionId, eventId: input.event.id };
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled: a lane's head an operator skipped. Ends Cancelled, retryable like a failed one.
      setStatus('skipped', attempts);
      throw err;
    }
    setStatus('failed', attempts);
    const cause = err instanceof ActivityFailure ? err.cause : err;
    // When the window runs out Temporal fails the activity with the last attempt's failure and
    // retryState TIMEOUT (a TimeoutFailure only if an attempt was still running).
    const windowExhausted =
      cause instanceof TimeoutFailure || (err instanceof ActivityFailure && err.retryState === RetryState.TIMEOUT);
    const why = windowExhausted
      ? `retry window of ${input.schedule.windowMs / 3_600_000} h exhausted; last error: ${lastError ?? 'timeout'}`
      : ((cause as Error | undefined)?.message ?? String(err));
    // One line for the Web UI, without a stack trace of bundle paths (src/temporal/failure-converter.ts).
    const failure = ApplicationFailure.create({
      type: FailureType.DeliveryFailed,
      message: `delivery to subscription ${input.subscriptionId} failed after ${Math.max(attempts, 1)} attempt(s): ${why}`,
      nonRetryable: true,
      cause: cause instanceof Error ? cause : undefined,
    });
    failure.stack = '';
    throw failure;
  }
}
