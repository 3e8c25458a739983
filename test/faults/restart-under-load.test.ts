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
import { waitUntil } from './support/processes';
import { extendEventId, SendStats } from './support/source';
import { SOURCE_ID, SOURCE_SECRET, startFaultStack, type FaultStack } from './support/stack';

/**
 * The production topology under load: two workers on one task queue, one of them SIGKILLed for good
 * mid-load (the other must take over its workflows and activities), then the Temporal server itself
 * restarted mid-load (stopped and started again on the same state). Run on the production tier by
 * scripts/test-on-postgres.sh, where the zero-loss restart claim must hold; on the dev server too.
 */

const TOTAL = 600;
const CONCURRENCY = 20;
const RATE = 20;
const DELIVERY_BOUND_MS = 10 * 60_000;

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack({
    name: 'restart-under-load',
    workers: 2,
    receiver: async () => {
      await sleep(20 + Math.random() * 80);
      return { status: 200 };
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

test('two workers, one SIGKILLed mid-load, then Temporal restarted mid-load: every accepted webhook is delivered', async () => {
  const { apiUrl, receiver, temporal, api } = stack;
  const [survivor, victim] = stack.workers as [
    NonNullable<FaultStack['workers'][0]>,
    NonNullable<FaultStack['workers'][0]>,
  ];
  const notificationIds = Array.from({ length: TOTAL }, () => randomUUID());
  const accepted = new Set<string>();
  const stats = new SendStats();
  const pool = new Pool(apiUrl, { connections: CONCURRENCY });
  const events: Record<string, number | string> = {};
  const t0 = Date.now();
  let sendDone = false;

  const send = async () => {
    events.sendSeconds = +(
      (await sendSteadily({
        pool,
        apiUrl,
        sourceId: SOURCE_ID,
        sourceSecret: SOURCE_SECRET,
        notificationIds,
        rate: RATE,
        concurrency: CONCURRENCY,
        stats,
        accepted,
      })) / 1000
    ).toFixed(1);
    sendDone = true;
  };
  const faults = async () => {
    await waitUntil(() => accepted.size >= 150 || sendDone, '150 accepted', 5 * 60_000);
    events.acceptedAtWorkerKill = accepted.size;
    events.receivedAtWorkerKill = receiver.requests.length;
    await victim.kill();
    const workerKilledAt = Date.now();

    await waitUntil(() => accepted.size >= 300 || sendDone, '300 accepted', 5 * 60_000);
    events.deliveredByTheSurvivorBeforeTheRestart = receiver.requests.filter(
      (r) => r.receivedAt > workerKilledAt,
    ).length;
    events.acceptedAtTemporalStop = accepted.size;
    const stopping = Date.now();
    await temporal.stop();
    events.temporalStopSeconds = +((Date.now() - stopping) / 1000).toFixed(1);
    const starting = Date.now();
    await temporal.start();
    events.temporalStartSeconds = +((Date.now() - starting) / 1000).toFixed(1);
    events.acceptedWhenTemporalWasBack = accepted.size;
  };

  try {
    await Promise.all([send(), faults()]);
    const missing = await waitAllDelivered(accepted, () => receivedEventIds(receiver.requests), DELIVERY_BOUND_MS);
    console.log(
      `[faults] restart under load on ${temporal.tier} Temporal:\n${JSON.stringify(
        {
          accepted: accepted.size,
          ...duplicateReport(receiver.requests),
          ...events,
          acceptedToAllDeliveredSeconds: +((Date.now() - t0) / 1000).toFixed(1),
          ...sourceReport(stats),
        },
        null,
        2,
      )}`,
    );

    expectNothingLost({
      sent: new Set(notificationIds.map((id) => extendEventId(SOURCE_ID, id))),
      accepted,
      missing,
      stats,
      requests: receiver.requests,
    });
    expect(accepted.size).toBe(TOTAL);
    // The faults happened during the send, and the survivor alone delivered everything (the victim
    // stayed dead). How much it delivered before the restart depends on when the victim's tasks time
    // out, so that number is reported above, not asserted.
    expect(events.acceptedAtWorkerKill).toBeLessThan(TOTAL);
    expect(events.acceptedAtTemporalStop).toBeLessThan(TOTAL);
    expect({ victim: victim.running, survivor: survivor.running, api: api.running }).toEqual({
      victim: false,
      survivor: true,
      api: true,
    });
    expect(survivor.starts).toBe(1);
  } catch (err) {
    stack.reportFailure('restart under load');
    throw err;
  } finally {
    await pool.close();
  }
});
