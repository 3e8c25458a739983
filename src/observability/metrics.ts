import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, register } from 'prom-client';
import { SubscriptionLabels } from './subscription-label';

/**
 * hookflow's Prometheus metrics. One registry per process (prom-client's default) so that, in the
 * single-process Quick start, the API's /metrics also shows the worker's. Metrics are created once per
 * registry: building several apps or workers in one process (tests) must not re-register them.
 */
export const defaultRegistry: Registry = register;

const cache = new WeakMap<Registry, Map<string, unknown>>();

function once<T>(registry: Registry, name: string, create: () => T): T {
  let made = cache.get(registry);
  if (!made) cache.set(registry, (made = new Map()));
  if (!made.has(name)) made.set(name, create());
  return made.get(name) as T;
}

/** Process metrics (CPU, memory, event loop lag), prefixed so they do not clash with Temporal core's. */
export function processMetrics(registry: Registry = defaultRegistry): void {
  once(registry, 'process', () => collectDefaultMetrics({ register: registry, prefix: 'hookflow_' }));
}

export function apiMetrics(registry: Registry = defaultRegistry) {
  return once(registry, 'api', () => ({
    received: new Counter({
      name: 'hookflow_webhooks_received_total',
      help: 'Webhook requests to a configured source',
      labelNames: ['source'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'hookflow_webhooks_rejected_total',
      help: 'Webhook requests answered with an error, by reason',
      labelNames: ['source', 'reason'],
      registers: [registry],
    }),
    verified: new Counter({
      name: 'hookflow_webhooks_verified_total',
      help: 'Webhook requests whose credentials were accepted, by the configured credential that matched (current, previous, ...; none when the source has none)',
      labelNames: ['source', 'secret'],
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'hookflow_webhooks_accepted_total',
      help: 'Notifications whose workflow was started (duplicates excluded)',
      labelNames: ['source'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'hookflow_webhooks_duplicates_total',
      help: 'Notifications acknowledged as repeats of an earlier one',
      labelNames: ['source'],
      registers: [registry],
    }),
    filtered: new Counter({
      name: 'hookflow_webhooks_filtered_total',
      help: "Accepted notifications the source's filter drops (warehouses, goods owners); included in accepted",
      labelNames: ['source'],
      registers: [registry],
    }),
    ackDuration: new Histogram({
      name: 'hookflow_ack_duration_seconds',
      help: 'From request to 202 (workflow starts durably accepted by Temporal)',
      labelNames: ['source'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  }));
}

export function workerMetrics(registry: Registry = defaultRegistry) {
  const buckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  return once(registry, 'worker', () => ({
    deliveries: new Counter({
      name: 'hookflow_deliveries_total',
      help: 'Delivery attempts by outcome (delivered, skipped, failed_retryable, failed_permanent, cancelled) and failure type (e.g. Http503)',
      labelNames: ['outcome', 'failure_type'],
      registers: [registry],
    }),
    deliveryAttempts: new Counter({
      name: 'hookflow_delivery_attempts_total',
      help: 'Delivery attempts started',
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: 'hookflow_delivery_duration_seconds',
      help: 'Duration of one delivery attempt',
      labelNames: ['outcome'],
      buckets,
      registers: [registry],
    }),
    followUps: new Counter({
      name: 'hookflow_followup_fetches_total',
      help: 'Follow-up fetches by outcome (fetched, failed_retryable, failed_permanent, cancelled) and failure type',
      labelNames: ['outcome', 'failure_type'],
      registers: [registry],
    }),
    followUpDuration: new Histogram({
      name: 'hookflow_followup_duration_seconds',
      help: 'Duration of one follow-up fetch',
      labelNames: ['outcome'],
      buckets,
      registers: [registry],
    }),
  }));
}

/** Outcome class of one attempt: the receiver's status class, or `network` when it never answered. */
export type AttemptClass = '2xx' | '3xx' | '4xx' | '5xx' | 'network';

/**
 * Per-subscription series (docs/observability.md "Per-subscription metrics"). The `subscription` label is
 * bounded by `labels` (src/observability/subscription-label.ts); no event id, entity or URL is a label.
 */
export function subscriptionMetrics(registry: Registry = defaultRegistry) {
  return once(registry, 'subscription', () => ({
    labels: new SubscriptionLabels(),
    deliveries: new Counter({
      name: 'hookflow_subscription_deliveries_total',
      help: 'Deliveries ended, by subscription and outcome (delivered, failed, skipped)',
      labelNames: ['subscription', 'outcome'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'hookflow_subscription_attempt_duration_seconds',
      help: 'Duration of one delivery attempt, by subscription and outcome class (2xx, 3xx, 4xx, 5xx, network)',
      labelNames: ['subscription', 'class'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  }));
}

/** Backlog gauges, set from visibility on scrape (src/observability/backlog-metrics.ts). */
export function backlogGauges(registry: Registry = defaultRegistry) {
  return once(registry, 'backlog', () => {
    // Every gauge awaits the same refresh: a scrape collects them concurrently.
    const hook: { source?: () => Promise<void> } = {};
    const collect = async (): Promise<void> => hook.source?.();
    const gauges = {
      waiting: new Gauge({
        name: 'hookflow_subscription_waiting',
        help: 'Deliveries running now (waiting for an attempt, in one, or in backoff), by subscription',
        labelNames: ['subscription'],
        registers: [registry],
        collect,
      }),
      inBackoff: new Gauge({
        name: 'hookflow_subscription_in_backoff',
        help: 'Deliveries waiting for a retry after a failed attempt, by subscription',
        labelNames: ['subscription'],
        registers: [registry],
        collect,
      }),
      held: new Gauge({
        name: 'hookflow_subscription_held',
        help: 'Deliveries whose status is held (the subscription is on hold), by subscription',
        labelNames: ['subscription'],
        registers: [registry],
        collect,
      }),
      oldestWaiting: new Gauge({
        name: 'hookflow_subscription_oldest_waiting_seconds',
        help: 'Age of the oldest running delivery, by subscription',
        labelNames: ['subscription'],
        registers: [registry],
        collect,
      }),
      total: new Gauge({
        name: 'hookflow_deliveries_waiting',
        help: 'Running delivery workflows of every subscription (exact count)',
        registers: [registry],
        collect,
      }),
      complete: new Gauge({
        name: 'hookflow_backlog_listed_complete',
        help: '1 when the per-subscription backlog gauges cover every running delivery, 0 when only the newest were listed',
        registers: [registry],
        collect,
      }),
      age: new Gauge({
        name: 'hookflow_backlog_figures_age_seconds',
        help: 'How old the backlog figures of this scrape are (they are read from visibility at most every few seconds)',
        registers: [registry],
        collect,
      }),
    };
    /** Sets every gauge from the latest figures; installed by the worker, called on each scrape. */
    return Object.assign(hook, gauges);
  });
}

let coreMetricsUrl: string | undefined;

/** Set by the worker when it enabled Temporal core's Prometheus exporter: every /metrics in this process appends it. */
export function setCoreMetricsUrl(url: string | undefined): void {
  coreMetricsUrl = url;
}

/** The registry's text plus Temporal core's (temporal_* names), so one scrape shows both. */
export async function renderMetrics(registry: Registry = defaultRegistry, coreUrl = coreMetricsUrl): Promise<string> {
  const own = await registry.metrics();
  if (!coreUrl) return own;
  try {
    const res = await fetch(coreUrl, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return `${own.trimEnd()}\n${(await res.text()).trimEnd()}\n`;
  } catch (err) {
    // A scrape should still show hookflow's own metrics while core's exporter is not answering.
    return `${own.trimEnd()}\n# temporal core metrics unavailable: ${(err as Error).message}\n`;
  }
}

export const METRICS_CONTENT_TYPE = register.contentType;
