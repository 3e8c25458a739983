import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { getSubscriptionQuery, subscriptionWorkflowId, type Subscription } from '../shared/outbound';

/** The current state of a subscription, read from its workflow; null when it does not exist or was deleted. */
export async function readSubscription(client: Client, id: string): Promise<Subscription | null> {
  try {
    return await client.workflow.getHandle(subscriptionWorkflowId(id)).query(getSubscriptionQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Running subscriptions of this deployment: one hookflow per task queue, so several can share a
 * namespace (the tests do) without seeing each other's subscriptions.
 */
export function subscriptionsQuery(taskQueue: string): string {
  return `WorkflowType = 'subscriptionWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(taskQueue)}`;
}

/** ...of which the active ones whose triggers may cover `type`. */
export function candidateQuery(taskQueue: string, type: string): string {
  const namespace = type.split('.')[0] ?? type;
  const triggers = ['*', `${namespace}.*`, type].map(quote).join(', ');
  return `${subscriptionsQuery(taskQueue)} AND HookflowStatus = 'active' AND HookflowTriggers IN (${triggers})`;
}

export async function listSubscriptionIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    ids.push(execution.workflowId.slice('subscription/'.length));
  }
  return ids;
}
