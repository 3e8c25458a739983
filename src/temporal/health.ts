import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import { HEALTH_MEMO, healthWorkflowId, type HealthMemo } from '../shared/health';
import { SA } from '../shared/search-attributes';
import { deliveriesQuery } from './deliveries';

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
  /** When inBackoff, lastSuccess and the success rates were counted (at most a few seconds ago). */
  figuresAt: string;
}

async function latestClosed(client: Client, query: string) {
  for await (const execution of client.workflow.list({ query, pageSize: 1 })) return execution;
  return undefined;
}

async function successRate(client: Client, subscriptionId: string, sinceMs: number): Promise<SuccessRate> {
  const since = new Date(Date.now() - sinceMs).toISOString();
  const closed = `${deliveriesQuery(subscriptionId)} AND CloseTime > '${since}'`;
  const [delivered, failed] = await Promise.all(
    ['delivered', 'failed'].map(async (status) =>
      Number((await client.workflow.count(`${closed} AND HookflowStatus = '${status}'`)).count),
    ),
  );
  const total = delivered! + failed!;
  return { delivered: delivered!, failed: failed!, rate: total === 0 ? null : delivered! / total };
}

/** What visibility says of every delivery of a subscription, and when it said it. */
interface DeliveryFigures {
  at: string;
  inBackoff: number;
  lastDelivered: Date | null;
  lastFailed: { at: Date; httpStatus: number | null } | null;
  lastHour: SuccessRate;
  lastDay: SuccessRate;
}

async function deliveryFigures(client: Client, id: string): Promise<DeliveryFigures> {
  const base = deliveriesQuery(id);
  const at = new Date().toISOString();
  const [backoff, delivered, failed, lastHour, lastDay] = await Promise.all([
    client.workflow.count(`${base} AND ExecutionStatus = 'Running' AND HookflowAttempts >= 1`),
    latestClosed(client, `${base} AND HookflowStatus = 'delivered'`),
    latestClosed(client, `${base} AND HookflowStatus = 'failed'`),
    successRate(client, id, 3600_000),
    successRate(client, id, 24 * 3600_000),
  ]);
  return {
    at,
    inBackoff: Number(backoff.count),
    lastDelivered: delivered?.closeTime ?? null,
    lastFailed: failed?.closeTime
      ? { at: failed.closeTime, httpStatus: failed.typedSearchAttributes.get(SA.httpStatus) ?? null }
      : null,
    lastHour,
    lastDay,
  };
}

/**
 * Delivery figures per subscription, refreshed at most every `maxAgeMs` and served stale while one
 * refresh runs: counting over a large visibility store takes seconds (one SQLite connection on the dev
 * server), and a dashboard polling every subscription must neither wait for that nor multiply it.
 * The first read of a subscription waits for its figures; later ones never do.
 */
export class DeliveryFiguresCache {
  private readonly entries = new Map<string, { figures?: DeliveryFigures; refreshing?: Promise<DeliveryFigures> }>();

  constructor(
    private readonly client: Client,
    private readonly maxAgeMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  async get(id: string): Promise<DeliveryFigures> {
    const entry = this.entries.get(id) ?? {};
    const fresh = entry.figures && Date.now() - Date.parse(entry.figures.at) < this.maxAgeMs;
    if (!fresh && !entry.refreshing) {
      entry.refreshing = deliveryFigures(this.client, id)
        .then((figures) => (entry.figures = figures))
        .finally(() => {
          entry.refreshing = undefined;
        });
      // A failed refresh: the next read tries again; a first read gets the error from the return below.
      entry.refreshing.catch(() => undefined);
      if (!this.entries.has(id) && this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(id, entry);
    }
    return entry.figures ?? entry.refreshing!;
  }
}

/**
 * A subscription's health: its health workflow's memo (describe, no query) when it runs, read fresh
 * every time, and visibility for what is true of every delivery (in backoff now, last success, success
 * rates), from the figures cache (`figuresAt` says how old they are).
 */
export async function subscriptionHealth(
  client: Client,
  subscription: { id: string; active: boolean },
  figuresCache: DeliveryFiguresCache,
): Promise<SubscriptionHealth> {
  const id = subscription.id;
  const [memo, figures] = await Promise.all([readHealthMemo(client, id), figuresCache.get(id)]);
  const failing = memo?.state === 'failing';
  const lastFailure = memo?.lastFailure
    ? { at: memo.lastFailure.at, httpStatus: memo.lastFailure.httpStatus ?? null, error: memo.lastFailure.error }
    : figures.lastFailed
      ? { at: figures.lastFailed.at.toISOString(), httpStatus: figures.lastFailed.httpStatus, error: null }
      : null;
  return {
    subscriptionId: id,
    state: !subscription.active ? 'disabled' : failing ? 'failing' : 'healthy',
    since: memo ? memo.since : null,
    inBackoff: figures.inBackoff,
    consecutiveFailures: failing ? memo.consecutiveFailures : 0,
    lastSuccess: figures.lastDelivered ? { at: figures.lastDelivered.toISOString() } : null,
    lastFailure,
    successRate: { lastHour: figures.lastHour, lastDay: figures.lastDay },
    figuresAt: figures.at,
  };
}
