import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { log } from '@temporalio/activity';
import type { HookflowConfig } from '../config/schema';
import { keywordValue } from '../shared/bounded';
import { filterRejection } from '../shared/filter';
import { deliveryWorkflowId, triggersMatch, type DeliveryInput, type DeliverySchedule, type OutboundEvent, type Subscription } from '../shared/outbound';
import { SA } from '../shared/search-attributes';
import type { deliveryWorkflow } from '../workflows/delivery';
import { candidateQuery, listSubscriptionIds, readSubscription } from './subscriptions-lookup';

export interface FanOutDeps {
  config: HookflowConfig;
  client: Client;
}

export function deliverySchedule(subscription: Subscription, config: HookflowConfig): DeliverySchedule {
  const oneDay = config.delivery.oneDay;
  return {
    policy: subscription.retryPolicy,
    timeoutMs: subscription.timeoutMs,
    initialIntervalMs: oneDay.initialInterval,
    backoffCoefficient: oneDay.backoffCoefficient,
    maximumIntervalMs: oneDay.maximumInterval,
    windowMs: oneDay.window,
  };
}

/**
 * Starts one delivery workflow per matching subscription. Candidates come from visibility (triggers,
 * active); each is then checked against its workflow's current state (query), so a change made a
 * moment ago (disable, new filter) is honoured. Workflow ids make a retry of this activity start nothing twice.
 */
export function createFanOutActivity({ config, client }: FanOutDeps) {
  return async function fanOut(input: { event: OutboundEvent; onlySubscriptionId?: string }): Promise<Array<{ subscriptionId: string; workflowId: string }>> {
    const { event, onlySubscriptionId } = input;

    const startDelivery = async (id: string) => {
      const subscription = await readSubscription(client, id);
      if (!subscription) return undefined;
      if (!onlySubscriptionId && (!subscription.active || !triggersMatch(subscription.triggers, event.type) || filterRejection(event, subscription.filter))) return undefined;
      const workflowId = deliveryWorkflowId(event.id, subscription.id);
      const args: [DeliveryInput] = [{ subscriptionId: subscription.id, event, schedule: deliverySchedule(subscription, config) }];
      try {
        await client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
          taskQueue: config.temporal.taskQueue,
          workflowId,
          args,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: SA.subscription, value: subscription.id },
            { key: SA.eventType, value: keywordValue(event.type) },
            { key: SA.eventId, value: keywordValue(event.id) },
            { key: SA.status, value: 'delivering' },
            ...(event.entity !== undefined ? [{ key: SA.entity, value: keywordValue(event.entity) }] : []),
          ],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      return { subscriptionId: subscription.id, workflowId };
    };

    const ids = onlySubscriptionId ? [onlySubscriptionId] : await listSubscriptionIds(client, candidateQuery(config.temporal.taskQueue, event.type));
    // Candidates are checked and started concurrently: one event to many subscriptions should not
    // pay one query + one start round trip per subscription in sequence.
    const outcomes = await Promise.all(ids.map((id) => startDelivery(id)));
    const started = outcomes.filter((o): o is { subscriptionId: string; workflowId: string } => o !== undefined);
    log.info('fan-out', { eventType: event.type, candidates: ids.length, deliveries: started.length });
    return started;
  };
}
