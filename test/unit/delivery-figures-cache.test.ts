import type { Client } from '@temporalio/client';
import { DeliveryFiguresCache } from '../../src/temporal/health';

/**
 * The health read's counted figures: the first read waits for a count, later reads never do (stale while
 * one refresh runs), and concurrent reads share one count. A stand-in client counts the visibility calls.
 */
function countingClient() {
  let release: () => void = () => undefined;
  const state = {
    counts: 0,
    gate: Promise.resolve(),
    hold: () => {
      state.gate = new Promise((r) => (release = r));
    },
  };
  const client = {
    workflow: {
      count: async () => {
        state.counts += 1;
        await state.gate;
        return { count: state.counts };
      },
      list: () => (async function* () {})(),
    },
  } as unknown as Client;
  return { client, state, release: () => release() };
}

/** deliveryFigures makes 5 counts per refresh (in backoff, and delivered/failed over 1 h and 24 h). */
const COUNTS_PER_REFRESH = 5;

test('the first read waits for the count; a read within maxAge makes no new count', async () => {
  const { client, state } = countingClient();
  const cache = new DeliveryFiguresCache(client, 60_000);
  const first = await cache.get('erp');
  expect(state.counts).toBe(COUNTS_PER_REFRESH);
  expect(await cache.get('erp')).toBe(first);
  expect(state.counts).toBe(COUNTS_PER_REFRESH);
});

test('past maxAge a read answers with the last figures at once and starts one refresh, shared by all', async () => {
  const { client, state, release } = countingClient();
  const cache = new DeliveryFiguresCache(client, 0);
  const first = await cache.get('erp');
  state.hold();
  const reads = await Promise.all([cache.get('erp'), cache.get('erp'), cache.get('erp')]);
  expect(reads.every((r) => r === first)).toBe(true); // stale, not waiting for the held count
  expect(state.counts).toBe(2 * COUNTS_PER_REFRESH); // one refresh for the three reads
  release();
  await new Promise((resolve) => setImmediate(resolve));
  const refreshed = await cache.get('erp');
  expect(refreshed).not.toBe(first);
  expect(refreshed.inBackoff).toBeGreaterThan(first.inBackoff);
});

test('subscriptions are counted apart', async () => {
  const { client, state } = countingClient();
  const cache = new DeliveryFiguresCache(client, 60_000);
  await cache.get('erp');
  await cache.get('shop');
  expect(state.counts).toBe(2 * COUNTS_PER_REFRESH);
});
