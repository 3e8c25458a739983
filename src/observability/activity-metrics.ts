import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Registry } from 'prom-client';
import type { DeliveryInput } from '../shared/delivery';
import {
  failureOutcome as deliverFailure,
  successOutcome as deliverSuccess,
  type DeliverOutcome,
} from './delivery-outcome';
import { defaultRegistry, subscriptionMetrics, workerMetrics } from './metrics';

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
 * metrics need no change to the activity code. Other activities pass straight through. `deliver` is
 * also counted per subscription (its input names it): attempts by class, deliveries by how they ended.
 */
export function activityMetricsInterceptor(registry: Registry = defaultRegistry): ActivityInterceptorsFactory {
  const m = workerMetrics(registry);
  const perSubscription = subscriptionMetrics(registry);
  return (ctx: Context) => {
    const type = ctx.info.activityType;
    if (type !== 'deliver' && type !== 'fetchFollowUp') return {};
    const [counter, histogram] =
      type === 'deliver' ? [m.deliveries, m.deliveryDuration] : [m.followUps, m.followUpDuration];
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        if (type === 'deliver') m.deliveryAttempts.inc();
        const stopTimer = histogram.startTimer();
        const startedAt = performance.now();
        const record = (outcome: Outcome, delivery: () => DeliverOutcome) => {
          counter.inc(outcome);
          stopTimer({ outcome: outcome.outcome });
          if (type !== 'deliver') return;
          const args = input.args[0] as DeliveryInput | undefined;
          const { attemptClass, ended } = delivery();
          const subscription = perSubscription.labels.label(args?.subscriptionId);
          if (attemptClass)
            perSubscription.attemptDuration.observe(
              { subscription, class: attemptClass },
              (performance.now() - startedAt) / 1000,
            );
          if (ended) perSubscription.deliveries.inc({ subscription, outcome: ended });
        };
        try {
          const result = await next(input);
          record(successOutcome(type, result), () => deliverSuccess(result));
          return result;
        } catch (err) {
          record(failureOutcome(err), () =>
            deliverFailure(err, input.args[0] as DeliveryInput | undefined, {
              attempt: ctx.info.attempt,
              scheduledTimestampMs: ctx.info.scheduledTimestampMs,
              scheduleToCloseTimeoutMs: ctx.info.scheduleToCloseTimeoutMs,
              now: Date.now(),
            }),
          );
          throw err;
        }
      },
    };
    return { inbound };
  };
}
