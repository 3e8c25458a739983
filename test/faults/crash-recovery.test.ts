import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import {
  duplicateReport,
  expectNothingLost,
  receivedEventIds,
  sendSteadily,
  sourceReport,
  waitAllDelivered,
} from './support/load';
import { HookflowProcess, waitUntil } from './support/processes';
import { extendEventId, SendStats } from './support/source';
import { SOURCE_ID, SOURCE_SECRET, startFaultStack, type FaultStack } from './support/stack';

/**
 * Crash recovery with real processes: Temporal (a dev server on a SQLite file, or PostgreSQL), the API
 * and ONE worker as separate `node` processes, and a receiver. 1,000 signed Extend webhooks go in over
 * HTTP while the worker is SIGKILLed three times and the API once. The promise under test: a webhook
 * answered 202 is delivered, whatever dies afterwards. At-least-once, so duplicates are allowed, but
 * only as repeated deliveries of the same event id.
 */

const TOTAL = 1000;
const CONCURRENCY = 20;
/** Per second: the send lasts ~40 s, so the four kills and their restarts land in the middle of it. */
const RATE = 25;
/** A hang detector, not a performance bound: the measured time is logged. */
const DELIVERY_BOUND_MS = 10 * 60_000;

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack({
    name: 'crash-recovery',
    // A receiver that takes a moment (as real ones do), so that some deliveries are in flight when the
    // worker dies: those are re-delivered, which is what the duplicate accounting is about.
    receiver: async () => {
      await sleep(50 + Math.random() * 100);
      return { status: 200 };
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

interface Kill {
  what: 'worker' | 'api';
  /** Webhooks accepted when it was killed: below TOTAL means it died during the send. */
  acceptedAtKill: number;
  /** Kill until the replacement was ready. */
  downMs: number;
}

test('1,000 webhooks while the worker is SIGKILLed 3x and the API 1x: nothing accepted is lost', async () => {
  const { api, apiUrl, receiver } = stack;
  const worker = stack.workers[0]!;
  const notificationIds = Array.from({ length: TOTAL }, () => randomUUID());
  const eventIds = new Set(notificationIds.map((id) => extendEventId(SOURCE_ID, id)));
  const accepted = new Set<string>();
  const stats = new SendStats();
  const kills: Kill[] = [];
  const pool = new Pool(apiUrl, { connections: CONCURRENCY });
  const t0 = Date.now();
  let sendDone = false;
  let sendMs = 0;

  const send = async () => {
    sendMs = await sendSteadily({
      pool,
      apiUrl,
      sourceId: SOURCE_ID,
      sourceSecret: SOURCE_SECRET,
      notificationIds,
      rate: RATE,
      concurrency: CONCURRENCY,
      stats,
      accepted,
    });
    sendDone = true;
  };
  // The faults, at points of the send; each waits for the previous replacement to be up, so every
  // kill hits a process that was doing work.
  const killAndRestart = async (proc: HookflowProcess) => {
    const acceptedAtKill = accepted.size;
    const killedAt = Date.now();
    await proc.kill();
    await sleep(1000);
    await stack.restart(proc);
    kills.push({ what: proc === api ? 'api' : 'worker', acceptedAtKill, downMs: Date.now() - killedAt });
  };
  const chaos = async () => {
    for (const [threshold, proc] of [
      [100, worker],
      [300, worker],
      [500, api],
      [700, worker],
    ] as const) {
      await waitUntil(() => accepted.size >= threshold || sendDone, `${threshold} accepted`, 5 * 60_000);
      await killAndRestart(proc);
    }
  };

  try {
    await Promise.all([send(), chaos()]);
    const missing = await waitAllDelivered(accepted, () => receivedEventIds(receiver.requests), DELIVERY_BOUND_MS);
    console.log(
      `[faults] crash recovery on ${stack.temporal.tier} Temporal:\n${JSON.stringify(
        {
          accepted: accepted.size,
          ...duplicateReport(receiver.requests),
          sendSeconds: +(sendMs / 1000).toFixed(1),
          acceptedToAllDeliveredSeconds: +((Date.now() - t0) / 1000).toFixed(1),
          ...sourceReport(stats),
          kills,
        },
        null,
        2,
      )}`,
    );

    expectNothingLost({ sent: eventIds, accepted, missing, stats, requests: receiver.requests });
    expect(accepted.size).toBe(TOTAL);
    // The faults really happened, and during the send.
    expect(kills.map((k) => k.what)).toEqual(['worker', 'worker', 'api', 'worker']);
    expect(kills.every((k) => k.acceptedAtKill < TOTAL)).toBe(true);
    expect(worker.starts).toBe(4);
    expect(api.starts).toBe(2);
  } catch (err) {
    stack.reportFailure('crash recovery');
    throw err;
  } finally {
    await pool.close();
  }
});
