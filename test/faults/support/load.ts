import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import type { RecordedRequest } from '../../support/fake-http';
import { verify } from '../../support/outbound';
import { waitUntil } from './processes';
import { extendEventId, extendWebhook, postUntilAccepted, type SendStats } from './source';
import { RECEIVER_SECRET } from './stack';

export interface SteadyLoad {
  pool: Pool;
  apiUrl: string;
  sourceId: string;
  sourceSecret: string;
  notificationIds: string[];
  /** Webhooks per second: long enough a send for faults to land in the middle of it. */
  rate: number;
  concurrency: number;
  stats: SendStats;
  /** Filled with the event id of every webhook answered 202, as it happens. */
  accepted: Set<string>;
  /** How long a source keeps retrying one webhook. */
  giveUpAfterMs?: number;
}

/** A source sending at a steady pace: `concurrency` lanes share one queue; webhook i waits for t0 + i / rate. */
export async function sendSteadily(load: SteadyLoad): Promise<number> {
  const t0 = Date.now();
  let next = 0;
  const lane = async () => {
    while (next < load.notificationIds.length) {
      const i = next++;
      const wait = t0 + (i * 1000) / load.rate - Date.now();
      if (wait > 0) await sleep(wait);
      const webhook = extendWebhook(load.sourceSecret, load.notificationIds[i]!);
      const deadline = Date.now() + (load.giveUpAfterMs ?? 3 * 60_000);
      if (
        await postUntilAccepted(load.pool, load.apiUrl, `/webhooks/${load.sourceId}`, webhook, load.stats, deadline)
      ) {
        load.accepted.add(extendEventId(load.sourceId, webhook.notificationId));
      }
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, lane));
  return Date.now() - t0;
}

export const receivedEventIds = (requests: RecordedRequest[]) =>
  requests.map((r) => String(r.headers['x-hookflow-event-id']));

/**
 * Waits until every accepted event id has reached the receiver. A stall (no new delivery for
 * `stallMs`) fails at once rather than at the bound: it is not slowness. Returns the ids still missing.
 */
export async function waitAllDelivered(
  accepted: Set<string>,
  received: () => string[],
  boundMs: number,
  stallMs = 2 * 60_000,
): Promise<string[]> {
  const missing = () => {
    const seen = new Set(received());
    return [...accepted].filter((id) => !seen.has(id));
  };
  let lastCount = -1;
  let lastProgress = Date.now();
  await waitUntil(
    () => {
      const left = missing().length;
      if (left !== lastCount) [lastCount, lastProgress] = [left, Date.now()];
      else if (Date.now() - lastProgress > stallMs)
        throw new Error(
          `delivery stalled: ${accepted.size - left}/${accepted.size} delivered, none for ${stallMs / 1000} s`,
        );
      return left === 0;
    },
    'every accepted event to be delivered',
    boundMs,
    () => `${accepted.size - missing().length}/${accepted.size} delivered`,
  );
  return missing();
}

/** Deliveries counted per event id: at-least-once means repeats are allowed, but only of one event. */
export function duplicateReport(requests: RecordedRequest[]) {
  const ids = receivedEventIds(requests);
  const repeats = new Map<string, number>();
  for (const id of ids) repeats.set(id, (repeats.get(id) ?? 0) + 1);
  return {
    received: ids.length,
    uniqueReceived: repeats.size,
    duplicateDeliveries: ids.length - repeats.size,
    eventsDeliveredMoreThanOnce: [...repeats.values()].filter((n) => n > 1).length,
    maxDeliveriesOfOneEvent: Math.max(0, ...repeats.values()),
  };
}

/**
 * Event ids whose deliveries differ in more than the attempt number: a redelivery must be the same
 * event (the body names the event of its header, and is the same body but for `attempt`).
 */
export function redeliveriesThatDiffer(requests: RecordedRequest[]): string[] {
  const bodies = new Map<string, Set<string>>();
  const wrong: string[] = [];
  for (const r of requests) {
    const event = JSON.parse(r.body.toString('utf8')) as { id: string; attempt?: number };
    delete event.attempt;
    if (event.id !== r.headers['x-hookflow-event-id'])
      wrong.push(`${String(r.headers['x-hookflow-event-id'])} (body says ${event.id})`);
    bodies.set(event.id, (bodies.get(event.id) ?? new Set()).add(JSON.stringify(event)));
  }
  return [...wrong, ...[...bodies].filter(([, b]) => b.size > 1).map(([id]) => id)];
}

/** What the source saw while sending, for a test's report. */
export const sourceReport = (stats: SendStats) => ({
  postAttempts: stats.attempts,
  connectionErrors: stats.connectionErrors,
  http503: stats.status503,
  http429: stats.status429,
  duplicateAcks: stats.duplicateAcks,
});

/**
 * The zero-loss promise, checked once delivery is done: every webhook got its 202 in the end (a
 * source retrying through the faults gets through), every accepted one was delivered, nothing was
 * delivered that was never sent, every delivery is signed with the subscription's secret, and
 * duplicates are only ever repeats of one event (at-least-once).
 */
export function expectNothingLost(run: {
  sent: Set<string>;
  accepted: Set<string>;
  missing: string[];
  stats: SendStats;
  requests: RecordedRequest[];
}): void {
  expect(run.stats.gaveUp).toEqual([]);
  expect(run.stats.unexpected).toEqual([]);
  expect(run.accepted.size).toBe(run.sent.size);
  expect(run.missing).toEqual([]);
  expect([...new Set(receivedEventIds(run.requests))].filter((id) => !run.sent.has(id))).toEqual([]);
  expect(run.requests.filter((r) => !verify.x(RECEIVER_SECRET, r)).length).toBe(0);
  expect(redeliveriesThatDiffer(run.requests)).toEqual([]);
}
