import { Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import type { AttemptReport, DeliveryInput } from '../shared/delivery';
import {
  failedAttemptSignal,
  healthWorkflowId,
  type FailedAttemptReport,
  type FailedDelivery,
  type HealthCheck,
  type HealthWorkflow,
} from '../shared/health';
import { SA } from '../shared/search-attributes';
import { readSubscription } from '../subscriptions/lookup';
import { healthSettings } from '../temporal/health';

const deliveriesOf = (subscriptionId: string) =>
  `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${subscriptionId}'`;

/**
 * Tells `health/<subscriptionId>` about a failed attempt (signal-with-start: the workflow exists only while
 * something is wrong), on the task queue of the worker that delivers. Best effort: a report that cannot be
 * sent is logged and never fails the delivery.
 */
export function healthReporter({ client, config }: { client: Client; config: HookflowConfig }) {
  const { checkIntervalMs, graceMs } = healthSettings(config);
  return async (input: DeliveryInput, report: AttemptReport): Promise<void> => {
    await client.workflow
      .signalWithStart<HealthWorkflow, [FailedAttemptReport]>('healthWorkflow', {
        workflowId: healthWorkflowId(input.subscriptionId),
        taskQueue: Context.current().info.taskQueue,
        args: [{ subscriptionId: input.subscriptionId, checkIntervalMs, graceMs }],
        signal: failedAttemptSignal,
        signalArgs: [
          {
            at: new Date().toISOString(),
            attempt: report.attempt,
            error: report.error,
            eventType: input.event.type,
            ...(report.httpStatus !== undefined ? { httpStatus: report.httpStatus } : {}),
          },
        ],
      })
      .catch((err: Error) => log.warn('could not report the failed attempt to health', { error: err.message }));
  };
}

/**
 * The health workflow's look at visibility: was anything delivered after the last failure, how many
 * deliveries wait for a retry, and which deliveries failed (exhausted their policy) since the last check.
 * Deliveries of operational events (`hookflow.*`) are never announced as failed: no alerts about alerts.
 */
export function createHealthActivities({ client }: { client: Client }) {
  return {
    async checkHealth(input: {
      subscriptionId: string;
      deliveredAfter: string;
      failedAfter: string;
      cap: number;
    }): Promise<HealthCheck> {
      const base = deliveriesOf(input.subscriptionId);
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
        ...(deliveredAt ? { deliveredAt } : {}),
        inBackoff: Number(inBackoff),
        failed,
        moreFailed,
      };
    },
  };
}
