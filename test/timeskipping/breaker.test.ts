import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import {
  BREAKER_DEFAULTS,
  failedAttemptSignal,
  healthWorkflowId,
  type BreakerView,
  type FailedAttemptReport,
  type HealthTransition,
  type HealthWorkflow,
} from '../../src/shared/health';
import type { BreakerSettings } from '../../src/shared/subscription';
import { eventually } from '../support/harness';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

/**
 * When the breaker trips, over skipped time: the real health workflow with stand-in activities (the
 * subscription's breaker settings, the hold, visibility's answer), on the time-skipping test server.
 */

quietExpectedFailures();

type Stubs = Pick<
  Activities,
  'readBreaker' | 'tripBreaker' | 'checkHealth' | 'publishHealthEvent' | 'emailHealthAlert' | 'publishFailedDeliveries'
>;

const CHECK_INTERVAL_MS = 30_000;
const taskQueue = `breaker-${randomUUID()}`;
const settings = new Map<string, BreakerSettings>();
const heldBy = new Map<string, 'operator' | 'breaker'>();
const deliveredAt = new Map<string, string>();
const checks = new Map<string, number>();
const trips: Array<{ subscriptionId: string; reason: string }> = [];
const transitions: HealthTransition[] = [];
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

const view = (id: string): BreakerView => ({
  exists: true,
  settings: settings.get(id) ?? BREAKER_DEFAULTS,
  ...(heldBy.has(id) ? { heldBy: heldBy.get(id)! } : {}),
});

beforeAll(async () => {
  env = await startTimeSkippingEnv();
  const activities: Stubs = {
    readBreaker: async (id) => view(id),
    tripBreaker: async ({ subscriptionId, reason }) => {
      trips.push({ subscriptionId, reason });
      heldBy.set(subscriptionId, 'breaker');
      return { held: true, heldBy: 'breaker' };
    },
    checkHealth: async ({ subscriptionId, deliveredAfter }) => {
      checks.set(subscriptionId, (checks.get(subscriptionId) ?? 0) + 1);
      // As visibility answers: the latest delivery closed after `deliveredAfter`, if any.
      const latest = deliveredAt.get(subscriptionId);
      const at = latest && latest > deliveredAfter ? latest : undefined;
      return {
        exists: true,
        inBackoff: 0,
        failed: [],
        moreFailed: 0,
        breaker: view(subscriptionId),
        ...(at ? { deliveredAt: at } : {}),
      };
    },
    publishHealthEvent: async (transition) => void transitions.push(transition),
    emailHealthAlert: async () => undefined,
    publishFailedDeliveries: async () => undefined,
  };
  worker = await startTestWorker(env, taskQueue, activities);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

const now = async () => new Date(await env.currentTimeMs());

/** `failures` failed attempts reported at once, as a worker sums them up. */
async function fail(subscriptionId: string, failures: number) {
  const report: FailedAttemptReport = {
    at: (await now()).toISOString(),
    attempt: 1,
    httpStatus: 503,
    error: 'receiver answered HTTP 503 Service Unavailable',
    eventType: 'shop.OrderPaid',
    failures,
  };
  await env.client.workflow.signalWithStart<HealthWorkflow, [FailedAttemptReport]>('healthWorkflow', {
    workflowId: healthWorkflowId(subscriptionId),
    taskQueue,
    args: [{ subscriptionId, checkIntervalMs: CHECK_INTERVAL_MS, graceMs: 60_000 }],
    signal: failedAttemptSignal,
    signalArgs: [report],
  });
  return report;
}

/** Skips `ms` of time and waits until the workflow has checked (it ran through that time). */
async function skip(subscriptionId: string, ms: number) {
  const before = checks.get(subscriptionId) ?? 0;
  await env.sleep(ms);
  await eventually(async () => (checks.get(subscriptionId) ?? 0) > before, `a check of ${subscriptionId}`);
}

const tripsOf = (id: string) => trips.filter((t) => t.subscriptionId === id);
const transitionsOf = (id: string) => transitions.filter((t) => t.subscriptionId === id);

test('10 consecutive failed attempts trip it at once; the end of the hold is announced as released', async () => {
  const id = `count-${randomUUID().slice(0, 8)}`;
  const first = await fail(id, 9);
  await skip(id, 2 * CHECK_INTERVAL_MS);
  expect(tripsOf(id)).toEqual([]);

  await fail(id, 1);
  await eventually(async () => tripsOf(id).length === 1, 'the trip');
  expect(tripsOf(id)[0]!.reason).toBe('10 consecutive failed attempts');
  const held = await eventually(async () => transitionsOf(id).find((t) => t.state === 'held'), 'the held event');
  expect(held).toMatchObject({ by: 'breaker', reason: '10 consecutive failed attempts', consecutiveFailures: 10 });
  // By count, not by time: long before the 15 minutes.
  expect(Date.parse(held.since) - Date.parse(first.at)).toBeLessThan(BREAKER_DEFAULTS.failingForMs);

  // The gate's probe is delivered and releases the hold: released, then recovered, each once.
  heldBy.delete(id);
  deliveredAt.set(id, (await now()).toISOString());
  await skip(id, CHECK_INTERVAL_MS);
  await eventually(async () => transitionsOf(id).some((t) => t.state === 'healthy'), 'the recovery');
  expect(transitionsOf(id).map((t) => t.state)).toEqual(['failing', 'held', 'released', 'healthy']);
  expect(tripsOf(id)).toHaveLength(1);
});

test('a receiver failing now and then does not trip it: a delivery among the failures starts the count again', async () => {
  const id = `flaky-${randomUUID().slice(0, 8)}`;
  await fail(id, 6);
  await env.sleep(1_000);
  deliveredAt.set(id, (await now()).toISOString());
  await env.sleep(1_000);
  await fail(id, 6); // 12 since the outage began, but not in a row
  await skip(id, CHECK_INTERVAL_MS);
  expect(tripsOf(id)).toEqual([]);

  await fail(id, 9);
  await skip(id, CHECK_INTERVAL_MS);
  expect(tripsOf(id)).toEqual([]);
  await fail(id, 1); // 10 since that delivery
  await eventually(async () => tripsOf(id).length === 1, 'the trip');
  expect(tripsOf(id)[0]!.reason).toBe('10 consecutive failed attempts');
});

test('failing for 15 minutes with fewer failures trips it, at 15 minutes', async () => {
  const id = `time-${randomUUID().slice(0, 8)}`;
  const first = await fail(id, 3);
  await skip(id, 14 * 60_000);
  expect(tripsOf(id)).toEqual([]);

  await env.sleep(2 * 60_000);
  await eventually(async () => tripsOf(id).length === 1, 'the trip');
  const held = await eventually(async () => transitionsOf(id).find((t) => t.state === 'held'), 'the held event');
  expect(held).toMatchObject({ by: 'breaker', reason: 'failing for 15 min', consecutiveFailures: 3 });
  const after = Date.parse(held.since) - Date.parse(first.at);
  expect(after).toBeGreaterThanOrEqual(BREAKER_DEFAULTS.failingForMs);
  expect(after).toBeLessThan(BREAKER_DEFAULTS.failingForMs + CHECK_INTERVAL_MS);
});

test('a subscription with its own thresholds trips by them', async () => {
  const id = `own-${randomUUID().slice(0, 8)}`;
  settings.set(id, { enabled: true, consecutiveFailures: 3, failingForMs: 60 * 60_000 });
  await fail(id, 2);
  await skip(id, 20 * 60_000);
  expect(tripsOf(id)).toEqual([]);
  await fail(id, 1);
  await eventually(async () => tripsOf(id).length === 1, 'the trip');
  expect(tripsOf(id)[0]!.reason).toBe('3 consecutive failed attempts');
});

test('a disabled breaker never trips', async () => {
  const id = `off-${randomUUID().slice(0, 8)}`;
  settings.set(id, { ...BREAKER_DEFAULTS, enabled: false });
  await fail(id, 50);
  await skip(id, 20 * 60_000);
  await fail(id, 50);
  await skip(id, 20 * 60_000);
  expect(tripsOf(id)).toEqual([]);
  expect(transitionsOf(id).map((t) => t.state)).toEqual(['failing']);
  const description = await env.client.workflow.getHandle(healthWorkflowId(id)).describe();
  expect(description.status.name).toBe('RUNNING');
});

test('a subscription an operator holds is not held again by the breaker', async () => {
  const id = `operator-${randomUUID().slice(0, 8)}`;
  heldBy.set(id, 'operator');
  await fail(id, 20);
  await skip(id, 20 * 60_000);
  expect(tripsOf(id)).toEqual([]);
  expect(transitionsOf(id).map((t) => t.state)).toEqual(['failing']);
});
