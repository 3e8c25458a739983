import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Registry } from 'prom-client';
import { defaultRegistry, workerMetrics } from './metrics';

type Outcome = { outcome: string; failure_type: string };

/** How an activity failure will be treated: the activity says so through ApplicationFailure's flag. */
function failureOutcome(err: unknown): Outcome {
  if (err instanceof CancelledFailure) return { outcome: 'cancelled', failure_type: '' };
  if (err instanceof ApplicationFailure)
    return {
      outcome: err.nonRetryable ? 'failed_permanent' : 'failed_retryable',
      failure_type: err.type ?? 'ApplicationFailure',
    };
  return { outcome: 'failed_retryable', failure_type: err instanceof Error ? err.name : 'unknown' };
}

/** `deliver` resolves `{ status: 'delivered' | 'skipped' }`; `fetchFollowUp` resolves the fetched response. */
function successOutcome(activityType: string, result: unknown): Outcome {
  if (activityType === 'deliver')
    return { outcome: (result as { status?: string } | undefined)?.status ?? 'delivered', failure_type: '' };
  return { outcome: 'fetched', failure_type: '' };
}

/**
 * Measures each execution (= attempt) of `deliver` and `fetchFollowUp` from outside the activities, so
 * metrics need no change to the activity code. Other activities pass straight through.
 */
export function activityMetricsInterceptor(registry: Registry = defaultRegistry): ActivityInterceptorsFactory {
  const m = workerMetrics(registry);
  return (ctx: Context) => {
    const type = ctx.info.activityType;
    if (type !== 'deliver' && type !== 'fetchFollowUp') return {};
    const [counter, histogram] =
      type === 'deliver' ? [m.deliveries, m.deliveryDuration] : [m.followUps, m.followUpDuration];
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        if (type === 'deliver') m.deliveryAttempts.inc();
        const stopTimer = histogram.startTimer();
        const record = (outcome: Outcome) => {
          counter.inc(outcome);
          stopTimer({ outcome: outcome.outcome });
        };
        try {
          const result = await next(input);
          record(successOutcome(type, result));
          return result;
        } catch (err) {
          record(failureOutcome(err));
          throw err;
        }
      },
    };
    return { inbound };
  };
}
