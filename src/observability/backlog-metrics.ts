import type { Client } from '@temporalio/client';
import type { Registry } from 'prom-client';
import { SA } from '../shared/search-attributes';
import { visibilityLiteral } from '../shared/visibility-literal';
import { backlogGauges, defaultRegistry, subscriptionMetrics } from './metrics';

/** At most this many running deliveries are listed per refresh (newest first, as visibility lists them). */
export const BACKLOG_LIST_LIMIT = 5_000;
/** Figures are read from visibility at most this often; a scrape in between gets the last ones. */
export const BACKLOG_MAX_AGE_MS = 15_000;

/** This deployment's running deliveries: others may share the namespace (each with its own task queue). */
const runningDeliveries = (taskQueue: string) =>
  `WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${visibilityLiteral(taskQueue)}`;

interface Backlog {
  waiting: number;
  inBackoff: number;
  held: number;
  oldestStartMs: number;
}

export interface BacklogFigures {
  at: number;
  /** Exact count of running deliveries. */
  total: number;
  /** False when there were more than the list limit: the per-subscription figures cover the newest. */
  complete: boolean;
  bySubscription: Map<string, Backlog>;
}

/**
 * One count and one bounded list of running deliveries, summed up per subscription label: cheaper than
 * the health figures (src/temporal/health.ts: seven visibility reads per subscription), and one read
 * serves every subscription. `label` bounds the series (src/observability/subscription-label.ts).
 */
export async function readBacklog(
  client: Client,
  taskQueue: string,
  label: (subscriptionId: unknown) => string,
  limit = BACKLOG_LIST_LIMIT,
): Promise<BacklogFigures> {
  const at = Date.now();
  const query = runningDeliveries(taskQueue);
  const counted = client.workflow.count(query);
  const bySubscription = new Map<string, Backlog>();
  let listed = 0;
  for await (const w of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    if (listed++ >= limit) break;
    const key = label(w.typedSearchAttributes.get(SA.subscription));
    const b = bySubscription.get(key) ?? { waiting: 0, inBackoff: 0, held: 0, oldestStartMs: Infinity };
    b.waiting++;
    if ((w.typedSearchAttributes.get(SA.attempts) ?? 0) >= 1) b.inBackoff++;
    if (w.typedSearchAttributes.get(SA.status) === 'held') b.held++;
    b.oldestStartMs = Math.min(b.oldestStartMs, w.startTime.getTime());
    bySubscription.set(key, b);
  }
  const total = Number((await counted).count);
  return { at, total, complete: listed <= limit, bySubscription };
}

/**
 * Backlog gauges per subscription (waiting, in backoff, held, oldest waiting), set from visibility when
 * /metrics is scraped: the first scrape waits for the figures, later ones get the latest at once while
 * a refresh (at most every `maxAgeMs`) runs. Returns the uninstall (the worker's client is closing).
 */
export function installBacklogMetrics(
  client: Client,
  taskQueue: string,
  registry: Registry = defaultRegistry,
  { maxAgeMs = BACKLOG_MAX_AGE_MS, limit = BACKLOG_LIST_LIMIT } = {},
): () => void {
  const gauges = backlogGauges(registry);
  const { labels } = subscriptionMetrics(registry);
  let figures: BacklogFigures | undefined;
  let refreshing: Promise<BacklogFigures | undefined> | undefined;

  const refresh = () =>
    (refreshing ??= readBacklog(client, taskQueue, (id) => labels.label(id), limit)
      .then((read) => (figures = read))
      .catch(() => figures) // visibility unavailable: keep the last figures (their age says so)
      .finally(() => {
        refreshing = undefined;
      }));

  const apply = (f: BacklogFigures) => {
    const now = Date.now();
    for (const gauge of [gauges.waiting, gauges.inBackoff, gauges.held, gauges.oldestWaiting]) gauge.reset();
    for (const [subscription, b] of f.bySubscription) {
      gauges.waiting.set({ subscription }, b.waiting);
      gauges.inBackoff.set({ subscription }, b.inBackoff);
      gauges.held.set({ subscription }, b.held);
      gauges.oldestWaiting.set({ subscription }, Math.max(0, (now - b.oldestStartMs) / 1000));
    }
    gauges.total.set(f.total);
    gauges.complete.set(f.complete ? 1 : 0);
    gauges.age.set(Math.max(0, (now - f.at) / 1000));
  };

  const source = async () => {
    if (!figures || Date.now() - figures.at >= maxAgeMs) {
      const pending = refresh();
      if (!figures) await pending;
    }
    if (figures) apply(figures);
  };
  gauges.source = source;
  return () => {
    if (gauges.source === source) gauges.source = undefined;
  };
}
