import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { coalescePlan, deliverySchedule } from '../../src/activities/fan-out';
import { coalesceSignal, type CoalesceInput, type CoalesceItem, type CoalesceResult } from '../../src/shared/coalesce';
import { deliveryWorkflowId, type OutboundEvent } from '../../src/shared/delivery';
import { SA } from '../../src/shared/search-attributes';
import { readSubscription } from '../../src/subscriptions/lookup';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription, json } from '../support/outbound';

// A coalescer whose one window outgrows Temporal's continue-as-new suggestion (the server suggests it at
// 4 MiB or 4 Ki events of history by default): the batch moves to a new run mid-window and still ends in
// one delivery per key with the last value and the full count. The storm is signalled straight to the
// coalescers, as the inbound workflows do (a thousand inbound workflows would take minutes here); each
// notification carries 10 KB, so 450 of them cross the size threshold well before the count one.
const PER_KEY = 450;
const PADDING = 5_000; // random bytes, 10,000 hex characters
/** Long enough for the storm on a loaded machine (2-5 s alone, 13 s at a load of 9): one window must hold it. */
const WINDOW_MS = 40_000;
const CONCURRENCY = 16;
const PAIRS = [
  { ProductNumber: 'CAN-1', Warehouse: 'ADR-1' },
  { ProductNumber: 'CAN-2', Warehouse: 'YX' },
];

let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
sources:
  - id: erp
    kind: extend-commerce
    secret: extend-secret
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

test('a storm past the continue-as-new suggestion in one window: the batch carries over, one delivery per key with the last value and the whole count', async () => {
  const path = `/coalesce-can/${randomUUID()}`;
  receiver.on(path, () => ({ status: 200 }));
  const subscriptionId = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    signature: 'x-signature',
    triggers: ['extend-commerce.AvailableBalanceChanged'],
    coalesce: {
      window: `PT${WINDOW_MS / 1000}S`,
      key: ['ProductNumber', 'Warehouse'],
      types: ['AvailableBalanceChanged'],
    },
  });
  const subscription = (await readSubscription(h.client, subscriptionId))!;
  const schedule = deliverySchedule(subscription, h.config);

  // Notification g (acceptance order g) belongs to pair g % 2; its value is g.
  const run = randomUUID().slice(0, 8);
  const base = Date.now();
  const items = Array.from({ length: PER_KEY * PAIRS.length }, (_, g): CoalesceItem => {
    const eventId = `erp/${run}-${g}`;
    const event: OutboundEvent = {
      id: eventId,
      uuid: randomUUID(),
      type: 'extend-commerce.AvailableBalanceChanged',
      occurredAt: new Date(base + g).toISOString(),
      source: { id: 'erp', kind: 'extend-commerce' },
      data: {
        Action: 'AvailableBalanceChanged',
        Details: { ...PAIRS[g % PAIRS.length]!, AvailableBalance: g, Note: randomBytes(PADDING).toString('hex') },
      },
    };
    return {
      event,
      order: { receivedAt: event.occurredAt, position: 0, eventId },
      schedule,
      deliveryWorkflowId: deliveryWorkflowId(eventId, subscriptionId),
    };
  });
  const plans = PAIRS.map((_, k) => coalescePlan(subscription, items[k]!.event)!);
  const coalescerOf = (g: number) => plans[g % PAIRS.length]!.workflowId;

  // Sent out of acceptance order (every 7th from the end first), so the last to arrive is not the latest.
  const sendOrder = items.map((_, g) => g).sort((a, b) => (a % 7) - (b % 7) || a - b);
  const started = Date.now();
  const firstRuns = await Promise.all(
    plans.map(async (plan, k) => {
      const [first, second] = sendOrder.filter((g) => g % PAIRS.length === k);
      const args: [CoalesceInput] = [{ subscriptionId, key: plan.key, windowMs: plan.windowMs, first: items[first!]! }];
      const handle = await h.client.workflow.signalWithStart('coalesceWorkflow', {
        workflowId: plan.workflowId,
        taskQueue: h.config.temporal.taskQueue,
        args,
        signal: coalesceSignal,
        signalArgs: [items[second!]!],
        typedSearchAttributes: [{ key: SA.subscription, value: subscriptionId }],
      });
      return { first: first!, second: second!, runId: handle.signaledRunId };
    }),
  );
  const rest = sendOrder.filter((g) => !firstRuns.some((r) => r.first === g || r.second === g));
  // As the inbound workflows do (handoff.ts): a signal that meets the run as it closes is sent again; the
  // next run takes it. One that fails three times met a coalescer whose window had ended.
  const signal = async (workflowId: string, item: CoalesceItem) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await h.client.workflow.getHandle(workflowId).signal(coalesceSignal, item);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError) || attempt >= 3) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  let next = 0;
  let failure: unknown;
  // A few at a time; all stop at the first failure (nothing keeps signalling after the test has ended).
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < rest.length && failure === undefined) {
        const g = rest[next++]!;
        await signal(coalescerOf(g), items[g]!).catch((err: unknown) => (failure ??= err));
      }
    }),
  );
  const stormSeconds = (Date.now() - started) / 1000;
  if (failure)
    throw new Error(`signal ${next} of ${rest.length} failed after ${stormSeconds.toFixed(1)} s: ${String(failure)}`);
  console.log(`coalesce continue-as-new storm: ${items.length} signals in ${stormSeconds.toFixed(1)} s`);
  expect(stormSeconds * 1000).toBeLessThan(WINDOW_MS); // else a second window would open: not this test's case

  // Each coalescer moved its batch to a new run at least once during the window (its first run's history,
  // over 4 MiB, is too big to fetch in one message: its status says how it ended).
  for (const [k, plan] of plans.entries()) {
    const first = h.client.workflow.getHandle(plan.workflowId, firstRuns[k]!.runId);
    await eventually(
      async () => (await first.describe()).status.name === 'CONTINUED_AS_NEW',
      `the first run of ${plan.workflowId} to continue as new`,
      WINDOW_MS,
    );
  }

  // One delivery per key, after the window, from the last run of the chain.
  const results = await Promise.all(
    plans.map((plan) => h.client.workflow.getHandle(plan.workflowId).result() as Promise<CoalesceResult>),
  );
  expect(results).toEqual(plans.map(() => ({ deliveries: 1, superseded: 0 })));
  // The coalescer starts the delivery and ends; the delivery then posts.
  await eventually(async () => receiver.requestsTo(path).length >= PAIRS.length, 'the deliveries', 30_000);
  const requests = receiver.requestsTo(path);
  expect(requests).toHaveLength(PAIRS.length);
  for (const [k, pair] of PAIRS.entries()) {
    const got = requests.map(json).filter((b) => b.data.Details.ProductNumber === pair.ProductNumber);
    expect(got).toHaveLength(1);
    const latest = PER_KEY * PAIRS.length - PAIRS.length + k; // the pair's last in acceptance order
    expect(got[0].id).toBe(`erp/${run}-${latest}`);
    expect(got[0].data.Details.AvailableBalance).toBe(latest);
    expect(got[0].coalesced).toEqual({ count: PER_KEY, replaced: PER_KEY - 1 });
    // Started by a later run than the first: the batch was carried over, not delivered before the move.
    const delivery = await h.client.workflow.getHandle(deliveryWorkflowId(got[0].id, subscriptionId)).describe();
    expect(delivery.parentExecution?.workflowId).toBe(plans[k]!.workflowId);
    expect(delivery.parentExecution?.runId).not.toBe(firstRuns[k]!.runId);
  }
}, 180_000);
