import { randomUUID } from 'node:crypto';
import { deliverySchedule } from '../../src/activities/fan-out';
import { deliveryWorkflowId, type OutboundEvent } from '../../src/shared/delivery';
import { deliveryStartOptions } from '../../src/shared/delivery-start';
import { gateConfigOf, gateWorkflowId, type GateWorkflow } from '../../src/shared/gate';
import { readSubscription } from '../../src/subscriptions/lookup';
import { gateState, holdSubscription, releaseSubscription } from '../../src/temporal/hold';
import type { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription, publish, deliveryStatusOf, waitForDeliveryStatus } from '../support/outbound';
import { eventually, FAST_RETRIES, startWithReceiver, stopWithReceiver, type Harness } from '../support/harness';

// What becomes of deliveries waiting at a held subscription's gate when the subscription is deleted, and
// when the gate continues-as-new under them; real worker on the dev server, a loopback receiver.
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  ({ h, receiver } = await startWithReceiver(FAST_RETRIES));
});

afterAll(() => stopWithReceiver({ h, receiver }));

/** A standard-webhooks subscription at a fresh path; `seen` lists the webhook-id of every request. */
async function receiverSubscription(
  answer: () => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
) {
  const run = randomUUID().slice(0, 8);
  const path = `/gate-held/${run}`;
  const seen: string[] = [];
  receiver.on(path, (request) => {
    seen.push(String(request.headers['webhook-id']));
    return answer();
  });
  const id = await createSubscription(h, {
    id: `gate-held-${run}`,
    url: `${receiver.url}${path}`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    signature: 'standard-webhooks',
    triggers: ['shop.*'],
  });
  return { id, run, seen };
}

const statusOf = (workflowId: string) => deliveryStatusOf(h, workflowId);

test('deleting a held subscription ends its waiting deliveries as skipped, nothing sent', async () => {
  const sub = await receiverSubscription();
  await holdSubscription(h.client, sub.id, { by: 'operator', reason: 'about to go' });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { eventId } = await publish(h, { type: 'shop.OrderPaid', data: { i }, idempotencyKey: `${sub.run}-${i}` });
    ids.push(deliveryWorkflowId(eventId, sub.id));
  }
  await waitForDeliveryStatus(h, ids, 'held');
  await eventually(async () => (await gateState(h.client, sub.id)).waiting === 3, 'three waiting at the gate');

  const deleted = await adminApi(h, 'DELETE', `/api/subscriptions/${sub.id}`);
  expect(deleted.statusCode).toBeLessThan(300);
  const results = await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).result()));
  for (const result of results)
    expect(result).toMatchObject({ status: 'skipped', reason: 'subscription no longer exists' });
  expect(await Promise.all(ids.map(statusOf))).toEqual(['skipped', 'skipped', 'skipped']);
  expect(sub.seen).toEqual([]);
});

test('deliveries waiting while the gate continues-as-new are each delivered exactly once after release', async () => {
  const N = 100;
  const sub = await receiverSubscription();
  const subscription = await readSubscription(h.client, sub.id);
  if (!subscription) throw new Error('subscription not readable');
  // The gate started ahead of the hold, with a short history: it continues-as-new every ~100 events.
  const gate = await h.client.workflow.start<GateWorkflow>('gateWorkflow', {
    workflowId: gateWorkflowId(sub.id),
    taskQueue: h.config.temporal.taskQueue,
    args: [{ subscriptionId: sub.id, config: gateConfigOf(subscription), historyLimit: 100 }],
  });
  const runOf = async () => (await h.client.workflow.getHandle(gate.workflowId).describe()).runId;
  await holdSubscription(h.client, sub.id, { by: 'operator' });

  const schedule = deliverySchedule(subscription, h.config);
  const ids: string[] = [];
  for (let from = 0; from < N; from += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, N - from) }, async (_, k) => {
        const i = from + k;
        const event: OutboundEvent = {
          id: `api/${sub.run}-${i}`,
          uuid: randomUUID(),
          type: 'shop.OrderPaid',
          occurredAt: new Date().toISOString(),
          data: { i },
        };
        const workflowId = deliveryWorkflowId(event.id, sub.id);
        ids.push(workflowId);
        await h.client.workflow.start('deliveryWorkflow', {
          ...deliveryStartOptions({ subscriptionId: sub.id, workflowId, schedule }, event),
          taskQueue: h.config.temporal.taskQueue,
        });
      }),
    );
  }
  await eventually(async () => (await gateState(h.client, sub.id)).waiting === N, `${N} waiting`, 45_000);
  const heldRun = await runOf();
  expect(heldRun).not.toBe(gate.firstExecutionRunId); // the queue was carried over at least once
  expect(sub.seen).toEqual([]);

  await releaseSubscription(h.client, sub.id, { by: 'operator' });
  const results = await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).result()));
  expect(results.every((r) => r.status === 'delivered')).toBe(true);
  expect(sub.seen).toHaveLength(N);
  expect(new Set(sub.seen).size).toBe(N);
  // ...and again under the permits and their answers (in a workflow task that may follow the last answer).
  await eventually(async () => (await runOf()) !== heldRun, 'the gate to continue-as-new while releasing');
  expect(await gateState(h.client, sub.id)).toMatchObject({ held: false, waiting: 0 });
}, 90_000);

test('held right after failures: deliveries still in backoff are counted apart from those waiting', async () => {
  // Each first attempt is answered 503 with a minute's Retry-After: the deliveries sit in backoff.
  const sub = await receiverSubscription(() => ({ status: 503, headers: { 'retry-after': '60' } }));
  for (let i = 0; i < 3; i++)
    await publish(h, { type: 'shop.OrderPaid', data: { i }, idempotencyKey: `${sub.run}-${i}` });
  await eventually(async () => new Set(sub.seen).size === 3, 'three failed first attempts');
  await holdSubscription(h.client, sub.id, { by: 'breaker', reason: 'failing' });
  const state = await eventually(async () => {
    const s = await gateState(h.client, sub.id);
    return s.inBackoff === 3 && s;
  }, 'three in backoff');
  expect(state).toMatchObject({ held: true, waiting: 0, inBackoff: 3 });
  const api = await adminApi(h, 'GET', `/api/subscriptions/${sub.id}/gate`);
  expect(api.json()).toMatchObject({ held: true, waiting: 0, inBackoff: 3 });
  // Not held: no count.
  await releaseSubscription(h.client, sub.id, { by: 'operator' });
  expect((await gateState(h.client, sub.id)).inBackoff).toBeUndefined();
  await adminApi(h, 'DELETE', `/api/subscriptions/${sub.id}`); // its deliveries end skipped at their next attempt
});
