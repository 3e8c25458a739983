import { randomUUID } from 'node:crypto';
import type { InboundWorkflowResult } from '../../src/shared/inbound';
import { subscriptionWorkflowId } from '../../src/shared/subscription';
import { startWorker, type RunningWorker } from '../../src/worker';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription, publish } from '../support/outbound';

// Fan-out and deliveries read a subscription from its workflow's memo (describe), not with a query and
// not from a cache: a change applies to every event accepted after the change is acknowledged, whichever
// of the two workers (same task queue) plans or delivers it.
let receiver: FakeHttpPeer;
let h: Harness;
let second: RunningWorker;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(testConfig(''));
  second = await startWorker(h.config, { workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! } });
});

afterAll(async () => {
  await second?.shutdown();
  await h?.stop();
  await receiver?.stop();
});

const EVENTS = 8;
/** Publishes EVENTS events and waits for their inbound workflows: the deliveries each one started. */
async function publishBatch(type: string): Promise<InboundWorkflowResult[]> {
  const accepted = await Promise.all(
    Array.from({ length: EVENTS }, () => publish(h, { type, idempotencyKey: randomUUID(), data: { n: 1 } })),
  );
  return Promise.all(
    accepted.map((a) => h.client.workflow.getHandle(a.workflowId).result() as Promise<InboundWorkflowResult>),
  );
}

test('the state is in the memo, and every change applies to events accepted after its acknowledgement', async () => {
  const tag = randomUUID();
  const first = `/first/${tag}`;
  const moved = `/moved/${tag}`;
  const id = await createSubscription(h, {
    url: `${receiver.url}${first}`,
    triggers: ['fresh.*'],
    signature: 'x-signature',
    secret: 'fresh-secret',
  });

  // The memo carries the current state (what fan-out and deliveries read).
  const memo = (await h.client.workflow.getHandle(subscriptionWorkflowId(id)).describe()).memo?.subscription as
    { url: string; active: boolean } | undefined;
  expect(memo).toMatchObject({ url: `${receiver.url}${first}`, active: true });

  const delivered = await publishBatch('fresh.Ping');
  expect(delivered.every((r) => r.deliveries?.length === 1)).toBe(true);
  await eventually(async () => receiver.requestsTo(first).length === EVENTS, 'first deliveries');

  // Disabled: no event accepted after the acknowledgement gets a delivery.
  expect((await adminApi(h, 'POST', `/api/subscriptions/${id}/disable`)).statusCode).toBe(200);
  const whileDisabled = await publishBatch('fresh.Ping');
  expect(whileDisabled.map((r) => r.deliveries?.length)).toEqual(Array(EVENTS).fill(0));

  // Enabled with a new URL: every event accepted after that goes to the new URL, none to the old one.
  expect(
    (await adminApi(h, 'PATCH', `/api/subscriptions/${id}`, { url: `${receiver.url}${moved}`, active: true }))
      .statusCode,
  ).toBe(200);
  const afterMove = await publishBatch('fresh.Ping');
  expect(afterMove.every((r) => r.deliveries?.length === 1)).toBe(true);
  await eventually(async () => receiver.requestsTo(moved).length === EVENTS, 'deliveries to the new URL');
  expect(receiver.requestsTo(first)).toHaveLength(EVENTS);

  // Deleted: nothing more.
  expect((await adminApi(h, 'DELETE', `/api/subscriptions/${id}`)).statusCode).toBe(204);
  const afterDelete = await publishBatch('fresh.Ping');
  expect(afterDelete.map((r) => r.deliveries?.length)).toEqual(Array(EVENTS).fill(0));
});
