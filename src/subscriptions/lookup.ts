import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  SUBSCRIPTION_MEMO,
  getSubscriptionQuery,
  subscriptionWorkflowId,
  type Subscription,
} from '../shared/subscription';
import { visibilityLiteral } from '../shared/visibility-literal';

/**
 * The current state of a subscription, read from its workflow; null when it does not exist or was deleted.
 *
 * Read from the workflow's memo (describe): the subscription workflow writes its state there in the same
 * workflow task that completes each update, so a change is visible as soon as it is acknowledged, and a
 * describe is answered by the history service from the execution's state, concurrently, without a
 * workflow task. A query instead goes through the worker, one at a time per workflow: at ~10 ms each
 * and two per event, every event of every source queued on the same `subscription/<id>` (docs/performance.md).
 * A workflow that has not written its memo yet (the instant after a create, a run from before this
 * change) is queried as before.
 */
export async function readSubscription(
  client: Client,
  id: string,
  options: { query: false },
): Promise<Subscription | null | 'unread'>;
export async function readSubscription(
  client: Client,
  id: string,
  options?: { query: true },
): Promise<Subscription | null>;
export async function readSubscription(
  client: Client,
  id: string,
  options: { query: boolean } = { query: true },
): Promise<Subscription | null | 'unread'> {
  const handle = client.workflow.getHandle(subscriptionWorkflowId(id));
  try {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return null;
    const memo = description.memo?.[SUBSCRIPTION_MEMO] as Subscription | undefined;
    if (memo) return memo;
    // Without a query (from a local activity, which must not wait for a workflow task): the caller decides.
    if (!options.query) return 'unread';
    return await handle.query(getSubscriptionQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * Running subscriptions of this deployment: one hookflow per task queue, so several can share a
 * namespace (the tests do) without seeing each other's subscriptions.
 */
export function subscriptionsQuery(taskQueue: string): string {
  return `WorkflowType = 'subscriptionWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${visibilityLiteral(taskQueue)}`;
}

/** ...of which the active ones whose triggers may cover `type`. */
export function candidateQuery(taskQueue: string, type: string): string {
  const namespace = type.split('.')[0] ?? type;
  const triggers = ['*', `${namespace}.*`, type].map(visibilityLiteral).join(', ');
  return `${subscriptionsQuery(taskQueue)} AND HookflowStatus = 'active' AND HookflowTriggers IN (${triggers})`;
}

export async function listSubscriptionIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query })) {
    ids.push(execution.workflowId.slice('subscription/'.length));
  }
  return ids;
}
