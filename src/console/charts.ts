import type { Client } from '@temporalio/client';
import { deliveriesQuery } from '../temporal/deliveries';
import { barChart, lineChart, type ChartSvg } from './chart-svg';

/**
 * A subscription's last 24 h from visibility, per hour: deliveries that ended delivered or failed
 * (two counts per hour) and how long first-attempt deliveries took from start to close (p50/p95 of up to
 * LATENCY_SAMPLE per hour). An hour that is over does not change: it is read once and kept; only the
 * current hour is read again, at most every CURRENT_HOUR_MAX_AGE_MS. Cold, that is 48 counts and 24
 * short lists; warm, 2 counts and 1 list.
 */
export const HOURS = 24;
export const LATENCY_SAMPLE = 100;
const HOUR_MS = 3_600_000;
const CURRENT_HOUR_MAX_AGE_MS = 5_000;
/** Visibility trails the workflows by seconds: an hour is read as final only this long after it ended. */
const SETTLE_MS = 60_000;
const MAX_SUBSCRIPTIONS_CACHED = 1_000;
const CONCURRENCY = 4;

export interface HourFigures {
  /** Start of the hour (UTC). */
  hour: number;
  delivered: number;
  failed: number;
  /** Seconds from start to close of deliveries delivered at their first attempt; null without any. */
  p50: number | null;
  p95: number | null;
  sampled: number;
  readAt: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function readHour(client: Client, subscriptionId: string, hour: number, readAt: number): Promise<HourFigures> {
  const closed = `${deliveriesQuery(subscriptionId)} AND CloseTime >= '${iso(hour)}' AND CloseTime < '${iso(hour + HOUR_MS)}'`;
  const count = async (status: string) =>
    Number((await client.workflow.count(`${closed} AND HookflowStatus = '${status}'`)).count);
  const durations: number[] = [];
  const sample = async () => {
    const query = `${closed} AND HookflowStatus = 'delivered' AND HookflowAttempts = 1`;
    for await (const w of client.workflow.list({ query, pageSize: LATENCY_SAMPLE })) {
      if (w.closeTime) durations.push((w.closeTime.getTime() - w.startTime.getTime()) / 1000);
      if (durations.length >= LATENCY_SAMPLE) break;
    }
  };
  const [delivered, failed] = await Promise.all([count('delivered'), count('failed'), sample()]);
  durations.sort((a, b) => a - b);
  return {
    hour,
    delivered: delivered!,
    failed: failed!,
    p50: quantile(durations, 0.5),
    p95: quantile(durations, 0.95),
    sampled: durations.length,
    readAt,
  };
}

/** Hours of every subscription read so far; a finished hour is final once read after it settled. */
export class ChartFiguresCache {
  private readonly bySubscription = new Map<string, Map<number, HourFigures>>();

  constructor(
    private readonly client: Client,
    private readonly now: () => number = Date.now,
  ) {}

  async last24h(subscriptionId: string): Promise<HourFigures[]> {
    const current = Math.floor(this.now() / HOUR_MS) * HOUR_MS;
    const hours = Array.from({ length: HOURS }, (_, i) => current - (HOURS - 1 - i) * HOUR_MS);
    let cached = this.bySubscription.get(subscriptionId);
    if (!cached) {
      if (this.bySubscription.size >= MAX_SUBSCRIPTIONS_CACHED) this.bySubscription.clear();
      this.bySubscription.set(subscriptionId, (cached = new Map()));
    }
    for (const hour of cached.keys()) if (hour < hours[0]!) cached.delete(hour);
    const stale = hours.filter((hour) => {
      const f = cached.get(hour);
      if (!f) return true;
      if (f.readAt >= hour + HOUR_MS + SETTLE_MS) return false; // final
      return this.now() - f.readAt >= CURRENT_HOUR_MAX_AGE_MS;
    });
    let next = 0;
    const worker = async () => {
      while (next < stale.length) {
        const hour = stale[next++]!;
        cached.set(hour, await readHour(this.client, subscriptionId, hour, this.now()));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, stale.length) }, worker));
    return hours.map((hour) => cached.get(hour)!);
  }
}

export interface SubscriptionCharts {
  deliveries: ChartSvg;
  latency: ChartSvg;
  totals: { delivered: number; failed: number };
}

const hourLabel = (hour: number) => `${iso(hour).slice(11, 13)}:00`;

/** The two charts of the subscription's deliveries page, as SVG markup (no script, no external file). */
export async function subscriptionCharts(
  cache: ChartFiguresCache,
  subscriptionId: string,
): Promise<SubscriptionCharts> {
  const hours = await cache.last24h(subscriptionId);
  const labels = hours.map((h) => hourLabel(h.hour));
  const totals = {
    delivered: hours.reduce((sum, h) => sum + h.delivered, 0),
    failed: hours.reduce((sum, h) => sum + h.failed, 0),
  };
  return {
    totals,
    deliveries: barChart({
      id: 'chart-deliveries',
      title: 'Deliveries per hour, last 24 h (UTC)',
      labels,
      series: [
        { name: 'delivered', colour: '#116329', values: hours.map((h) => h.delivered) },
        { name: 'failed', colour: '#b42318', values: hours.map((h) => h.failed) },
      ],
    }),
    latency: lineChart({
      id: 'chart-latency',
      title: 'Time to deliver at the first attempt, start to close (seconds), last 24 h (UTC)',
      labels,
      unit: 's',
      series: [
        { name: 'p50', colour: '#0a5fb4', values: hours.map((h) => h.p50) },
        { name: 'p95', colour: '#9a6700', values: hours.map((h) => h.p95) },
      ],
    }),
  };
}
