import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import type { AttemptReport, DeliveryInput } from '../shared/delivery';
import {
  breakerSettingsOf,
  failedAttemptSignal,
  healthWorkflowId,
  isOperationalEventType,
  type FailedAttemptReport,
  type BreakerView,
  type FailedDelivery,
  type HealthCheck,
  type HealthWorkflow,
  type TripResult,
} from '../shared/health';
import type { Subscription } from '../shared/subscription';
import { SA } from '../shared/search-attributes';
import { readSubscription } from '../subscriptions/lookup';
import { healthSettings } from '../temporal/health';
import { gateState, holdSubscription } from '../temporal/hold';
import { deliveriesQuery } from '../temporal/deliveries';

/** Failed attempts of one subscription reported at most once per this, per worker process. */
const REPORT_WINDOW_MS = 1_000;

/**
 * Tells `health/<subscriptionId>` about failed attempts (signal-with-start: the workflow exists only while
 * something is wrong), on the task queue of the worker that delivers. The first failure after a quiet
 * second goes at once (an outage shows within one attempt); the ones after it are summed up and sent once
 * a second (`failures`), so a dead receiver with thousands of deliveries in backoff costs its health
 * workflow one signal a second per worker, not one per attempt: a signal per attempt holds the workflow's
 * lock so often that reading its memo (describe) waits seconds. Best effort: a report that cannot be sent
 * is logged and never fails the delivery; a worker that dies loses at most a second of counts.
 */
export function healthReporter({ client, config }: { client: Client; config: HookflowConfig }) {
  const { checkIntervalMs, graceMs } = healthSettings(config);
  const windows = new Map<string, { until: number; batch?: FailedAttemptReport; taskQueue?: string }>();

  const send = (subscriptionId: string, taskQueue: string, report: FailedAttemptReport) =>
    client.workflow
      .signalWithStart<HealthWorkflow, [FailedAttemptReport]>('healthWorkflow', {
        workflowId: healthWorkflowId(subscriptionId),
        taskQueue,
        args: [{ subscriptionId, checkIntervalMs, graceMs }],
        signal: failedAttemptSignal,
        signalArgs: [report],
      })
      .then(
        () => undefined,
        (err: Error) => log.warn('could not report failed attempts to health', { error: err.message }),
      );

  const flush = (subscriptionId: string) => {
    const window = windows.get(subscriptionId);
    windows.delete(subscriptionId);
    if (window?.batch) void send(subscriptionId, window.taskQueue!, window.batch);
  };

  return async (input: DeliveryInput, report: AttemptReport): Promise<void> => {
    const taskQueue = Context.current().info.taskQueue;
    const failed: FailedAttemptReport = {
      at: new Date().toISOString(),
      attempt: report.attempt,
      error: report.error,
      eventType: input.event.type,
      ...(report.httpStatus !== undefined ? { httpStatus: report.httpStatus } : {}),
    };
    const id = input.subscriptionId;
    const window = windows.get(id);
    if (!window) {
      windows.set(id, { until: Date.now() + REPORT_WINDOW_MS });
      setTimeout(() => flush(id), REPORT_WINDOW_MS).unref();
      await send(id, taskQueue, failed);
      return;
    }
    // Within the window: one report for all, the latest failure, with a real event's type when there is one.
    const batch = window.batch;
    const keepType = batch && isOperationalEventType(failed.eventType) && !isOperationalEventType(batch.eventType);
    window.batch = {
      ...failed,
      ...(keepType ? { eventType: batch.eventType } : {}),
      failures: (batch?.failures ?? 0) + 1,
    };
    window.taskQueue = taskQueue;
  };
}

/**
 * The health workflow's look at visibility: was anything delivered after the last failure, how many
 * deliveries wait for a retry, and which deliveries failed (exhausted their policy) since the last check.
 * Deliveries of operational events (`hookflow.*`) are never announced as failed: no alerts about alerts.
 */
const breakerView = (subscription: Subscription): BreakerView => ({
  exists: true,
  settings: breakerSettingsOf(subscription.breaker),
  ...(subscription.hold ? { heldBy: subscription.hold.by } : {}),
});

export function createHealthActivities({ client }: { client: Client }) {
  return {
    /** The breaker's settings and whether the subscription is held (read when a health workflow starts). */
    async readBreaker(subscriptionId: string): Promise<BreakerView> {
      const subscription = await readSubscription(client, subscriptionId);
      if (subscription === null) return { exists: false, settings: breakerSettingsOf(undefined) };
      return breakerView(subscription);
    },

    /** The breaker trips: hold the subscription, unless it is held already (an operator's hold stays his). */
    async tripBreaker(input: { subscriptionId: string; reason: string }): Promise<TripResult> {
      const state = await gateState(client, input.subscriptionId);
      if (state.held) return { held: false, ...(state.by ? { heldBy: state.by } : {}) };
      await holdSubscription(client, input.subscriptionId, { by: 'breaker', reason: input.reason });
      log.info('breaker tripped: subscription held', { subscriptionId: input.subscriptionId, reason: input.reason });
      return { held: true, heldBy: 'breaker' };
    },

    async checkHealth(input: {
      subscriptionId: string;
      deliveredAfter: string;
      failedAfter: string;
      cap: number;
    }): Promise<HealthCheck> {
      const base = deliveriesQuery(input.subscriptionId);
      const subscription = await readSubscription(client, input.subscriptionId);
      if (subscription === null) return { exists: false, inBackoff: 0, failed: [], moreFailed: 0 };
      const disabled = subscription.active
        ? {}
        : { disabled: subscription.disabledReason ? { reason: subscription.disabledReason } : {} };
      let deliveredAt: string | undefined;
      for await (const execution of client.workflow.list({
        query: `${base} AND HookflowStatus = 'delivered' AND CloseTime > '${input.deliveredAfter}'`,
        pageSize: 1,
      })) {
        deliveredAt = execution.closeTime?.toISOString();
        break;
      }
      const { count: inBackoff } = await client.workflow.count(
        `${base} AND ExecutionStatus = 'Running' AND HookflowAttempts >= 1`,
      );
      const failed: FailedDelivery[] = [];
      let moreFailed = 0;
      for await (const execution of client.workflow.list({
        query: `${base} AND HookflowStatus = 'failed' AND CloseTime > '${input.failedAfter}'`,
      })) {
        const eventType = execution.typedSearchAttributes.get(SA.eventType);
        // Neither operational events (no alerts about alerts) nor the Test button's event.
        if (eventType?.startsWith('hookflow.')) continue;
        if (failed.length >= input.cap) {
          moreFailed++;
          continue;
        }
        const httpStatus = execution.typedSearchAttributes.get(SA.httpStatus);
        const attempts = execution.typedSearchAttributes.get(SA.attempts);
        const eventId = execution.typedSearchAttributes.get(SA.eventId);
        failed.push({
          deliveryId: execution.workflowId,
          closedAt: (execution.closeTime ?? new Date()).toISOString(),
          ...(eventType !== undefined ? { eventType } : {}),
          ...(eventId !== undefined ? { eventId } : {}),
          ...(httpStatus !== undefined ? { httpStatus } : {}),
          ...(attempts !== undefined ? { attempts } : {}),
        });
      }
      return {
        exists: true,
        ...disabled,
        breaker: breakerView(subscription),
        ...(deliveredAt ? { deliveredAt } : {}),
        inBackoff: Number(inBackoff),
        failed,
        moreFailed,
      };
    },
  };
}
