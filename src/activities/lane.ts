import { log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import { boundedWorkflowId, keywordValue } from '../shared/bounded';
import { triggersMatch } from '../shared/subscription';
import { SA } from '../shared/search-attributes';
import { readSubscription } from '../subscriptions/lookup';
import { visibilityLiteral } from '../shared/visibility-literal';

export interface LaneDeps {
  config: HookflowConfig;
  client: Client;
}

/**
 * The lane's look back (read only): inbound workflows of the same entity, accepted before the lane's
 * head, still running (a follow-up fetch being retried, a worker with a backlog) and of a type the
 * subscription takes. They will hand their event to this lane later; until then the head waits, so
 * the order of acceptance holds however late an inbound workflow runs (docs/beyond-delivery.md, "Ordered delivery per entity").
 */
export function createLaneActivities({ config, client }: LaneDeps) {
  return {
    async earlierInboundPending(input: { subscriptionId: string; entity: string; eventId: string }): Promise<string[]> {
      let startedAt: Date;
      try {
        startedAt = (await client.workflow.getHandle(boundedWorkflowId(`inbound/${input.eventId}`)).describe())
          .startTime;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return [];
        throw err;
      }
      const subscription = await readSubscription(client, input.subscriptionId);
      if (!subscription) return [];
      const query = [
        `WorkflowType = 'inboundWorkflow'`,
        `TaskQueue = ${visibilityLiteral(config.temporal.taskQueue)}`,
        `ExecutionStatus = 'Running'`,
        `HookflowEntity = ${visibilityLiteral(keywordValue(input.entity))}`,
        `StartTime < ${visibilityLiteral(startedAt.toISOString())}`,
      ].join(' AND ');
      const pending: string[] = [];
      for await (const execution of client.workflow.list({ query, pageSize: 100 })) {
        const kind = execution.typedSearchAttributes.get(SA.sourceKind);
        const eventType = execution.typedSearchAttributes.get(SA.eventType) ?? '';
        const type = kind === 'api' || kind === undefined ? eventType : `${kind}.${eventType}`;
        if (triggersMatch(subscription.triggers, type)) pending.push(execution.workflowId);
        if (pending.length >= 20) break;
      }
      if (pending.length)
        log.info('lane head waits for earlier events', {
          subscriptionId: input.subscriptionId,
          pending: pending.length,
        });
      return pending;
    },
  };
}
