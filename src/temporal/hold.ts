import type { Client } from '@temporalio/client';
import { subscriptionWorkflowId, type SubscriptionHold } from '../shared/subscription';
import { readSubscription } from '../subscriptions/lookup';
import { deliveriesQuery } from './deliveries';

/**
 * Hold and release a subscription: the `hold` and `release` signals of `subscription/<id>`, so every
 * hold and release shows in the subscription workflow's history. A hold while held changes nothing.
 */
export async function holdSubscription(
  client: Client,
  id: string,
  options: { by: SubscriptionHold['by']; reason?: string; budgetRuns?: boolean },
): Promise<void> {
  const hold: SubscriptionHold = {
    since: new Date().toISOString(),
    by: options.by,
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.budgetRuns ? { budgetRuns: true } : {}),
  };
  await client.workflow.getHandle(subscriptionWorkflowId(id)).signal('hold', hold);
}

export async function releaseSubscription(
  client: Client,
  id: string,
  options: { by: SubscriptionHold['by'] },
): Promise<void> {
  await client.workflow.getHandle(subscriptionWorkflowId(id)).signal('release', { by: options.by });
}

export interface GateState {
  held: boolean;
  since?: string;
  by?: SubscriptionHold['by'];
  /** Deliveries of the subscription waiting (running, not delivered yet). */
  waiting: number;
  inFlight: number;
  rateLimit?: number;
  maxInFlight?: number;
  nextProbeAt?: string;
}

/** The hold as the subscription's memo has it, and how many of its deliveries wait. */
export async function gateState(client: Client, id: string): Promise<GateState> {
  const [subscription, running] = await Promise.all([
    readSubscription(client, id),
    client.workflow.count(`${deliveriesQuery(id)} AND ExecutionStatus = 'Running'`),
  ]);
  const hold = subscription?.hold;
  return {
    held: hold !== undefined,
    ...(hold ? { since: hold.since, by: hold.by } : {}),
    waiting: hold ? Number(running.count) : 0,
    inFlight: 0,
  };
}
