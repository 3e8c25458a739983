import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import { HEALTH_MEMO, healthWorkflowId, type HealthMemo } from '../shared/health';
import { SA } from '../shared/search-attributes';

/** Check interval and grace period of the health workflows (`alerts` in the config). */
export function healthSettings(config: HookflowConfig) {
  return { checkIntervalMs: config.alerts.healthCheckInterval, graceMs: config.alerts.recoveredGrace };
}

/** The health workflow's memo when it runs (something is or was just wrong); null when there is none. */
export async function readHealthMemo(client: Client, subscriptionId: string): Promise<HealthMemo | null> {
  try {
    const description = await client.workflow.getHandle(healthWorkflowId(subscriptionId)).describe();
    if (description.status.name !== 'RUNNING') return null;
    return (description.memo?.[HEALTH_MEMO] as HealthMemo | undefined) ?? null;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Health memos of many subscriptions, read `concurrency` at a time (the console's list). */
export async function readHealthMemos(
  client: Client,
  subscriptionIds: string[],
  concurrency = 16,
): Promise<Map<string, HealthMemo | null | 'unknown'>> {
  const result = new Map<string, HealthMemo | null | 'unknown'>();
  let next = 0;
  const worker = async () => {
    while (next < subscriptionIds.length) {
      const id = subscriptionIds[next++]!;
      result.set(id, await readHealthMemo(client, id).catch(() => 'unknown' as const));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, subscriptionIds.length) }, worker));
  return result;
}

interface SuccessRate {
  delivered: number;
  failed: number;
  /** delivered / (delivered + failed), null without finished deliveries. */
  rate: number | null;
}

/** `GET /api/subscriptions/:id/health`. */
export interface SubscriptionHealth {
  subscriptionId: string;
  state: 'healthy' | 'failing' | 'disabled';
  /** failing: the first failed attempt of the outage; healthy: the recovery, when recent; else null. */
  since: string | null;
  inBackoff: number;
  consecutiveFailures: number;
  lastSuccess: { at: string } | null;
  lastFailure: { at: string; httpStatus: number | null; error: string | null } | null;
  successRate: { lastHour: SuccessRate; lastDay: SuccessRate };
}

const deliveriesOf = (subscriptionId: string) =>
  `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${subscriptionId}'`;

async function latestClosed(client: Client, query: string) {
  for await (const execution of client.workflow.list({ query, pageSize: 1 })) return execution;
  return undefined;
}

async function successRate(client: Client, subscriptionId: string, sinceMs: number): Promise<SuccessRate> {
  const since = new Date(Date.now() - sinceMs).toISOString();
  const closed = `${deliveriesOf(subscriptionId)} AND CloseTime > '${since}'`;
  const [delivered, failed] = await Promise.all(
    ['delivered', 'failed'].map(async (status) =>
      Number((await client.workflow.count(`${closed} AND HookflowStatus = '${status}'`)).count),
    ),
  );
  const total = delivered! + failed!;
  return { delivered: delivered!, failed: failed!, rate: total === 0 ? null : delivered! / total };
}

/**
 * A subscription's health: its health workflow's memo (describe, no query) when it runs, and visibility
 * for what is true of every delivery (in backoff now, last success, success rates).
 */
export async function subscriptionHealth(
  client: Client,
  subscription: { id: string; active: boolean },
): Promise<SubscriptionHealth> {
  const id = subscription.id;
  const base = deliveriesOf(id);
  const [memo, backoff, delivered, failed, lastHour, lastDay] = await Promise.all([
    readHealthMemo(client, id),
    client.workflow.count(`${base} AND ExecutionStatus = 'Running' AND HookflowAttempts >= 1`),
    latestClosed(client, `${base} AND HookflowStatus = 'delivered'`),
    latestClosed(client, `${base} AND HookflowStatus = 'failed'`),
    successRate(client, id, 3600_000),
    successRate(client, id, 24 * 3600_000),
  ]);
  const failing = memo?.state === 'failing';
  const lastFailure = memo?.lastFailure
    ? { at: memo.lastFailure.at, httpStatus: memo.lastFailure.httpStatus ?? null, error: memo.lastFailure.error }
    : failed?.closeTime
      ? {
          at: failed.closeTime.toISOString(),
          httpStatus: failed.typedSearchAttributes.get(SA.httpStatus) ?? null,
          error: null,
        }
      : null;
  return {
    subscriptionId: id,
    state: !subscription.active ? 'disabled' : failing ? 'failing' : 'healthy',
    since: memo ? memo.since : null,
    inBackoff: Number(backoff.count),
    consecutiveFailures: failing ? memo.consecutiveFailures : 0,
    lastSuccess: delivered?.closeTime ? { at: delivered.closeTime.toISOString() } : null,
    lastFailure,
    successRate: { lastHour, lastDay },
  };
}
