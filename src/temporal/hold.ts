import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { NotFoundError } from '../errors';
import { gateStateQuery, gateWorkflowId, type GateState } from '../shared/gate';
import {
  applySubscriptionUpdate,
  subscriptionWorkflowId,
  type Subscription,
  type SubscriptionHold,
} from '../shared/subscription';
import { readSubscription } from '../subscriptions/lookup';
import { deliveriesQuery } from './deliveries';

/**
 * Hold and release of a subscription (docs/operations.md "Hold and release"), for the API, the console and
 * the breaker. Both are `apply` updates of the subscription workflow (acknowledged once stored, the same
 * as its `hold`/`release` signals from the CLI); the workflow then tells `gate/<id>`.
 */

async function existing(client: Client, id: string): Promise<Subscription> {
  const subscription = await readSubscription(client, id);
  if (!subscription) throw new NotFoundError(`subscription "${id}" does not exist`);
  return subscription;
}

export async function holdSubscription(
  client: Client,
  id: string,
  { by, reason, budgetRuns }: { by: SubscriptionHold['by']; reason?: string; budgetRuns?: boolean },
): Promise<GateState> {
  const current = (await existing(client, id)).hold;
  // The breaker does not take over an operator's hold (it would release it after a good probe).
  if (!(current && by === 'breaker')) {
    const hold: SubscriptionHold = {
      ...current,
      since: current?.since ?? new Date().toISOString(),
      by,
      ...(reason !== undefined ? { reason } : {}),
      ...(budgetRuns !== undefined ? { budgetRuns } : {}),
    };
    await client.workflow
      .getHandle(subscriptionWorkflowId(id))
      .executeUpdate(applySubscriptionUpdate, { args: [{ hold }] });
  }
  return gateState(client, id);
}

/** Releases the hold; `by: 'breaker'` releases only the breaker's own hold, never an operator's. */
export async function releaseSubscription(
  client: Client,
  id: string,
  { by }: { by: SubscriptionHold['by'] },
): Promise<GateState> {
  const current = (await existing(client, id)).hold;
  if (current && !(by === 'breaker' && current.by !== 'breaker'))
    await client.workflow
      .getHandle(subscriptionWorkflowId(id))
      .executeUpdate(applySubscriptionUpdate, { args: [{ hold: null }] });
  return gateState(client, id);
}

/**
 * Deliveries of a held subscription in backoff (a failed attempt, the next not yet at the gate): right after
 * a hold (the breaker's trip) most of its backlog is here, not yet counted as waiting. Visibility lags a
 * little; undefined when it does not answer.
 */
async function inBackoff(client: Client, id: string): Promise<number | undefined> {
  const query = `${deliveriesQuery(id)} AND ExecutionStatus = 'Running' AND HookflowStatus = 'delivering' AND HookflowAttempts >= 1`;
  return client.workflow.count(query).then(
    ({ count }) => Number(count),
    () => undefined,
  );
}

/**
 * Held or not (from the subscription, the source of truth) and the gate's figures: deliveries waiting and
 * permits out, from the gate's `state` query (zero when no gate runs: nothing waits); held, also how many
 * are still in backoff.
 */
export async function gateState(client: Client, id: string): Promise<GateState> {
  const subscription = await existing(client, id);
  let gate: GateState | undefined;
  try {
    gate = await client.workflow.getHandle(gateWorkflowId(id)).query(gateStateQuery);
  } catch (err) {
    // Not running (never started, or ended idle): a query of a closed gate fails or answers stale figures.
    if (!(err instanceof WorkflowNotFoundError) && !/closed|completed|not found/i.test((err as Error).message))
      throw err;
  }
  const { hold, rateLimit, maxInFlight } = subscription;
  const backoff = hold ? await inBackoff(client, id) : undefined;
  return {
    held: hold !== undefined,
    ...(hold ? { since: hold.since, by: hold.by } : {}),
    waiting: gate?.waiting ?? 0,
    ...(backoff !== undefined ? { inBackoff: backoff } : {}),
    inFlight: gate?.inFlight ?? 0,
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(maxInFlight !== undefined ? { maxInFlight } : {}),
    ...(gate?.nextProbeAt && hold?.by === 'breaker' ? { nextProbeAt: gate.nextProbeAt } : {}),
  };
}
