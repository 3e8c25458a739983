import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import { activityCause, applicationCause } from './activity-failure';
import {
  ATTEMPT_BASE_MEMO,
  FIRST_FAILURE_MEMO,
  FIRST_RETRY_AT_MEMO,
  attemptFailedSignal,
  retryNowSignal,
  scheduleBackoffMs,
  type AwaitingGateDetails,
  type DeliveryAttemptResult,
  type DeliveryInput,
  type DeliveryResult,
  type DeliverySchedule,
  type DeliveryStatus,
  type AttemptFailureDetails,
  type AttemptReport,
} from '../shared/delivery';
import { FailureType } from '../shared/failure-types';
import { SA } from '../shared/search-attributes';
import { gateDoneSignal, gatePermitSignal, gateWorkflowId, type GatePermit } from '../shared/gate';

// Asks the subscription's gate for a permit: one signalWithStart of `gate/<subscriptionId>`.
const { requestPermit } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumInterval: '10 seconds' },
});

/** The AwaitingGate failure's details, when `err` is one. */
function awaitingGate(err: unknown): AwaitingGateDetails | undefined {
  const cause = applicationCause(err);
  if (cause?.type !== FailureType.AwaitingGate) return undefined;
  return (cause.details?.[0] as AwaitingGateDetails | undefined) ?? { reason: 'held', attempt: 1 };
}

/** A failure that ends the delivery at once: non-retryable (4xx, 410, transformation), not the gate's. */
function endsDelivery(err: unknown): boolean {
  const cause = applicationCause(err);
  return cause?.nonRetryable === true && cause.type !== FailureType.AwaitingGate;
}

/** What a failed local attempt says in its failure: its report and the receiver's Retry-After (src/activities/deliver.ts). */
function localFailureDetails(err: unknown): AttemptFailureDetails {
  return (applicationCause(err)?.details?.[0] as AttemptFailureDetails | undefined) ?? {};
}

/** Patch id (docs/workflow-versioning.md): the first attempt runs as a local activity. */
const LOCAL_FIRST_ATTEMPT = 'local-first-attempt';

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
 *
 * Held or throttled subscriptions (docs/operations.md "Hold and release", "Throttle"): the activity
 * sends nothing without a permit and fails AwaitingGate; the delivery then waits for a permit from
 * `gate/<subscriptionId>` (src/workflows/gate.ts) and runs the activity again, each permit good for one
 * attempt, the attempt numbers going on from where they were. The first command is always the first
 * `deliver`, as before the gate: recorded histories replay unchanged. `retryNow` cancels an attempt in
 * backoff and starts the next one at once.
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
  const options = deliveryActivityOptions(input.schedule);
  const windowMs = typeof options.scheduleToCloseTimeout === 'number' ? options.scheduleToCloseTimeout : undefined;
  let lastHttpStatus: number | undefined;
  let lastError: string | undefined;

  const setStatus = (status: DeliveryStatus, attempts?: number) =>
    upsertSearchAttributes([
      { key: SA.status, value: status },
      ...(attempts !== undefined ? [{ key: SA.attempts, value: attempts }] : []),
      ...(lastHttpStatus !== undefined ? [{ key: SA.httpStatus, value: lastHttpStatus }] : []),
    ]);

  let attempts = 0;
  const attemptFailed = (report: AttemptReport) => {
    attempts = Math.max(attempts, report.attempt);
    lastHttpStatus = report.httpStatus ?? lastHttpStatus;
    lastError = report.error;
    setStatus('delivering', attempts);
  };
  setHandler(attemptFailedSignal, attemptFailed);

  let permit: GatePermit | undefined;
  setHandler(gatePermitSignal, (granted) => {
    permit = granted;
  });

  /** Attempts made by earlier invocations of the activity. */
  let attemptBase = 0;
  /** The running invocation's scope, and whether retryNow cancelled it. */
  let invocation: CancellationScope | undefined;
  let retryingNow = false;
  /** The wait after a failed local first attempt: retryNow ends it. */
  let firstBackoff: CancellationScope | undefined;
  // Only an attempt in backoff (one failed in this invocation, the next not reported yet) is cut short.
  setHandler(retryNowSignal, () => {
    if (firstBackoff) {
      firstBackoff.cancel();
      return;
    }
    if (invocation && attempts > attemptBase && !retryingNow) {
      retryingNow = true;
      invocation.cancel();
    }
  });

  const gateId = gateWorkflowId(input.subscriptionId);
  const tellGateDone = async (grant: number | undefined, delivered: boolean) => {
    try {
      await CancellationScope.nonCancellable(() =>
        getExternalWorkflowHandle(gateId).signal(gateDoneSignal, {
          workflowId: workflowInfo().workflowId,
          ...(grant !== undefined ? { grant } : {}),
          delivered,
        }),
      );
    } catch {
      // The gate ended (its permit expired): nothing to free.
    }
  };

  /** Time the retry window has run: invocations, and time held when the hold's budgetRuns says so. */
  let windowUsedMs = 0;
  let windowSpent = false;

  const delivered = (attemptResult: DeliveryAttemptResult): DeliveryResult => {
    const outcome = { ...attemptResult };
    delete outcome.record;
    lastHttpStatus = outcome.httpStatus ?? lastHttpStatus;
    setStatus(outcome.status, outcome.attempt);
    return { ...outcome, subscriptionId: input.subscriptionId, eventId: input.event.id };
  };

  /** An attempt met the gate (nothing sent): wait for a permit; the next attempt has its number. */
  const waitForPermit = async (waiting: AwaitingGateDetails) => {
    attemptBase += waiting.attempt - 1;
    upsertMemo({ [ATTEMPT_BASE_MEMO]: attemptBase });
    setStatus(waiting.reason === 'held' ? 'held' : 'waiting', attempts);
    const waitedFrom = Date.now();
    await requestPermit({
      subscriptionId: input.subscriptionId,
      workflowId: workflowInfo().workflowId,
      queuedAt: workflowInfo().startTime.getTime(),
    });
    await condition(() => permit !== undefined);
    if (waiting.reason === 'held' && waiting.budgetRuns) windowUsedMs += Date.now() - waitedFrom;
    setStatus('delivering', attempts);
  };

  try {
    let first = true;
    // docs/performance.md: most deliveries succeed the first time, so the first attempt is a local activity
    // (no activity task in the history, a marker only). Any other outcome goes on as before: the gate's
    // wait, or the policy's first backoff and then the regular activity (the Web UI's pending activity)
    // with attempt numbers from 2; a permanent failure ends the delivery here.
    const localFirst = patched(LOCAL_FIRST_ATTEMPT);
    if (localFirst) {
      const { deliver: deliverLocally } = proxyLocalActivities<Activities>({
        startToCloseTimeout: options.startToCloseTimeout,
        retry: { maximumAttempts: 1 },
      });
      const startedAt = Date.now();
      try {
        return delivered(await deliverLocally(input));
      } catch (err) {
        const details = localFailureDetails(err);
        // A regular attempt signals its report; a local one returns it in its failure.
        if (details.report) attemptFailed(details.report);
        const waiting = awaitingGate(err);
        const deferred = applicationCause(err)?.type === FailureType.LocalAttemptDeferred;
        if (deferred) {
          // Nothing sent: the regular activity makes attempt 1, as without the local attempt.
        } else if (waiting) {
          windowUsedMs += Date.now() - startedAt;
          await waitForPermit(waiting);
        } else {
          if (isCancellation(err) || endsDelivery(err) || input.schedule.policy === 'none') throw err;
          attemptBase = 1;
          const delayMs = details.nextRetryDelayMs ?? input.schedule.initialIntervalMs;
          const cause = activityCause(err);
          upsertMemo({
            [ATTEMPT_BASE_MEMO]: attemptBase,
            [FIRST_RETRY_AT_MEMO]: new Date(Date.now() + delayMs).toISOString(),
            [FIRST_FAILURE_MEMO]: cause instanceof Error ? cause.message : String(err),
          });
          const backoff = (firstBackoff = new CancellationScope());
          try {
            await backoff.run(() => sleep(delayMs));
          } catch (backoffEnded) {
            // retryNow: the second attempt goes now; a cancelled delivery ends as before.
            if (!isCancellation(backoffEnded) || CancellationScope.current().consideredCancelled) throw backoffEnded;
          } finally {
            firstBackoff = undefined;
          }
          windowUsedMs += Date.now() - startedAt;
        }
        first = deferred;
      }
    }
    for (; ; first = false) {
      const granted = first ? undefined : permit;
      permit = undefined;
      const remaining = windowMs === undefined ? undefined : windowMs - windowUsedMs;
      if (remaining !== undefined && remaining <= 0) {
        windowSpent = true;
        throw ApplicationFailure.create({ message: 'retry window exhausted', nonRetryable: true });
      }
      // The first invocation exactly as before the gate (the first command of every recorded history).
      const { deliver } = proxyActivities<Activities>(
        first
          ? options
          : {
              ...options,
              ...(remaining !== undefined ? { scheduleToCloseTimeout: remaining } : {}),
              summary: `attempts continue from ${attemptBase + 1}`,
              // Temporal's own backoff (the activity's nextRetryDelay aside) on the delivery's curve, not anew.
              ...(localFirst && attemptBase > 0 && input.schedule.policy !== 'none'
                ? { retry: { ...options.retry, initialInterval: scheduleBackoffMs(input.schedule, attemptBase + 1) } }
                : {}),
            },
      );
      const startedAt = Date.now();
      const scope = (invocation = new CancellationScope());
      try {
        // The attempt's record stays in the activity's result (the attempt log): a parent awaiting this
        // delivery (a lane) does not need the receiver's answer in its own history.
        const attemptResult = await scope.run(() =>
          deliver(
            first ? input : { ...input, attemptBase, ...(granted ? { permitted: true, grant: granted.grant } : {}) },
          ),
        );
        // Delivered: the activity told the gate right after the request. Skipped: nothing was sent, tell it here.
        if (granted && attemptResult.status !== 'delivered') await tellGateDone(granted.grant, false);
        return delivered(attemptResult);
      } catch (err) {
        windowUsedMs += Date.now() - startedAt;
        if (granted) await tellGateDone(granted.grant, false);
        // An attempt that had just started when retryNow came ends (if it fails retryably) as CANCEL_REQUESTED.
        const cutShort =
          isCancellation(err) || (err instanceof ActivityFailure && err.retryState === RetryState.CANCEL_REQUESTED);
        if (retryingNow && cutShort && !CancellationScope.current().consideredCancelled) {
          // retryNow: the attempt in backoff was cancelled; the next one goes now (through the gate if gated).
          retryingNow = false;
          permit = undefined; // a permit is good for the invocation it was asked for
          attemptBase = Math.max(attemptBase, attempts);
          upsertMemo({ [ATTEMPT_BASE_MEMO]: attemptBase });
          continue;
        }
        const waiting = awaitingGate(err);
        if (!waiting) throw err;
        await waitForPermit(waiting);
      } finally {
        invocation = undefined;
      }
    }
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled: a lane's head an operator skipped. Ends Cancelled, retryable like a failed one.
      setStatus('skipped', attempts);
      throw err;
    }
    setStatus('failed', attempts);
    const cause = activityCause(err);
    // When the window runs out Temporal fails the activity with the last attempt's failure and
    // retryState TIMEOUT (a TimeoutFailure only if an attempt was still running).
    const windowExhausted =
      windowSpent ||
      cause instanceof TimeoutFailure ||
      (err instanceof ActivityFailure && err.retryState === RetryState.TIMEOUT);
    const why = windowExhausted
      ? `retry window of ${input.schedule.windowMs / 3_600_000} h exhausted; last error: ${lastError ?? 'timeout'}`
      : ((cause as Error | undefined)?.message ?? String(err));
    // One line for the Web UI, without a stack trace of bundle paths (src/temporal/failure-converter.ts).
    const failure = ApplicationFailure.create({
      type: FailureType.DeliveryFailed,
      message: `delivery to subscription ${input.subscriptionId} failed after ${Math.max(attempts, 1)} attempt(s): ${why}`,
      nonRetryable: true,
      cause: cause instanceof Error && !windowSpent ? cause : undefined,
    });
    failure.stack = '';
    throw failure;
  }
}
