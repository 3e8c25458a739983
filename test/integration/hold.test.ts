import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { subscriptionWorkflowId } from '../../src/shared/subscription';
import type { FakeHttpPeer, RecordedRequest } from '../support/fake-http';
import {
  adminApi,
  createSubscription,
  json,
  publish,
  deliveryStatusOf,
  waitForDeliveryStatus,
} from '../support/outbound';
import { gateState, holdSubscription } from '../../src/temporal/hold';
import { eventually, FAST_RETRIES, startWithReceiver, stopWithReceiver, type Harness } from '../support/harness';

// Hold, release and retry now (docs/operations.md), against the real worker on the dev server and a
// loopback receiver that counts requests by webhook-id. Retries are fast (0.2 s .. 1 s).
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  ({ h, receiver } = await startWithReceiver(`${FAST_RETRIES}
  ordering: { settle: PT0.5S, idle: PT2S }
`));
});

afterAll(() => stopWithReceiver({ h, receiver }));

interface Seen {
  webhookId: string;
  attempt: number;
  status: number;
  seq?: number;
}

/** A standard-webhooks subscription at a fresh path, whose receiver answers `answer()` and records what it saw. */
async function receiverSubscription(
  answer: (request: RecordedRequest) => number | { status: number; headers: Record<string, string> },
  fields: Record<string, unknown> = {},
) {
  const run = randomUUID().slice(0, 8);
  const path = `/hold/${run}`;
  const seen: Seen[] = [];
  receiver.on(path, (request) => {
    const answered = answer(request);
    const { status, headers } = typeof answered === 'number' ? { status: answered, headers: {} } : answered;
    const body = json(request) as { data?: { seq?: number } };
    seen.push({
      webhookId: String(request.headers['webhook-id']),
      attempt: Number(request.headers['x-hookflow-attempt']),
      status,
      ...(body.data?.seq !== undefined ? { seq: body.data.seq } : {}),
    });
    return { status, headers };
  });
  const id = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    signature: 'standard-webhooks',
    triggers: ['shop.*'],
    ...fields,
  });
  return { id, run, seen };
}

const statusOf = (workflowId: string) => deliveryStatusOf(h, workflowId);
const allStatus = (ids: string[], status: string) => waitForDeliveryStatus(h, ids, status);

describe('hold and release', () => {
  test('held: deliveries in backoff and new ones wait, nothing is sent; released: each delivered exactly once', async () => {
    let healthy = false;
    const sub = await receiverSubscription(() => (healthy ? 200 : 503));
    const early = [];
    for (let i = 0; i < 3; i++)
      early.push(await publish(h, { type: 'shop.OrderPaid', data: { i }, idempotencyKey: `${sub.run}-early-${i}` }));
    const earlyIds = early.map(({ eventId }) => deliveryWorkflowId(eventId, sub.id));
    // In backoff: each has failed at least once.
    await eventually(async () => new Set(sub.seen.map((s) => s.webhookId)).size === 3, 'three failed first attempts');

    const held = await adminApi(h, 'POST', `/api/subscriptions/${sub.id}/hold`, { reason: 'receiver maintenance' });
    expect(held.statusCode).toBe(200);
    expect(held.json()).toMatchObject({ held: true, by: 'operator' });
    const late = [];
    for (let i = 0; i < 3; i++)
      late.push(await publish(h, { type: 'shop.OrderPaid', data: { i }, idempotencyKey: `${sub.run}-late-${i}` }));
    const ids = [...earlyIds, ...late.map(({ eventId }) => deliveryWorkflowId(eventId, sub.id))];
    await allStatus(ids, 'held');
    const sentWhileHeld = sub.seen.length;
    healthy = true;
    const state = await eventually(async () => {
      const res = await adminApi(h, 'GET', `/api/subscriptions/${sub.id}/gate`);
      return res.json().waiting === 6 && res.json();
    }, 'six deliveries waiting at the gate');
    expect(state).toMatchObject({ held: true, waiting: 6, inFlight: 0 });
    const health = await adminApi(h, 'GET', `/api/subscriptions/${sub.id}/health`);
    expect(health.json().hold).toMatchObject({ by: 'operator', reason: 'receiver maintenance' });
    // Still nothing sent: every delivery waited for a permit since it was held.
    expect(sub.seen.length).toBe(sentWhileHeld);

    const released = await adminApi(h, 'POST', `/api/subscriptions/${sub.id}/release`);
    expect(released.statusCode).toBe(200);
    expect(released.json()).toMatchObject({ held: false });
    const results = await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).result()));
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    const delivered = sub.seen.filter((s) => s.status === 200);
    expect(delivered).toHaveLength(6);
    expect(new Set(delivered.map((s) => s.webhookId)).size).toBe(6);
    // Attempt numbers go on across the wait: an early delivery's success comes after its failures.
    for (const { webhookId, attempt } of delivered) {
      const failures = sub.seen.filter((s) => s.webhookId === webhookId && s.status !== 200);
      expect(attempt).toBe(failures.length + 1);
    }
    expect(await statusOf(ids[0]!)).toBe('delivered');
  });

  test('an ordered subscription held and released delivers each entity in order', async () => {
    const sub = await receiverSubscription(() => 200, { ordering: 'entity' });
    await h.client.workflow.getHandle(subscriptionWorkflowId(sub.id)).signal('hold'); // as from the CLI
    await eventually(async () => (await adminApi(h, 'GET', `/api/subscriptions/${sub.id}/gate`)).json().held, 'held');
    const entity = `SO-${sub.run}`;
    const ids = [];
    for (const seq of [1, 2, 3]) {
      const { eventId } = await publish(h, {
        type: 'shop.OrderChanged',
        entity,
        data: { seq },
        idempotencyKey: `${sub.run}-${seq}`,
      });
      ids.push(deliveryWorkflowId(eventId, sub.id));
    }
    // The lane's head waits at the gate; the rest wait in the lane.
    await allStatus(ids.slice(0, 1), 'held');
    expect(sub.seen).toHaveLength(0);
    await h.client.workflow.getHandle(subscriptionWorkflowId(sub.id)).signal('release');
    await eventually(async () => sub.seen.length >= 3, 'three deliveries');
    expect(sub.seen.map((s) => s.seq)).toEqual([1, 2, 3]);
  });
});

test('held by the breaker: one probe after 30 s; delivered, it releases the subscription and the rest go', async () => {
  const sub = await receiverSubscription(() => 200);
  await holdSubscription(h.client, sub.id, { by: 'breaker', reason: 'failing' });
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const { eventId } = await publish(h, { type: 'shop.OrderPaid', data: { i }, idempotencyKey: `${sub.run}-${i}` });
    ids.push(deliveryWorkflowId(eventId, sub.id));
  }
  await allStatus(ids, 'held');
  expect(sub.seen).toHaveLength(0);
  const state = await gateState(h.client, sub.id);
  expect(state).toMatchObject({ held: true, by: 'breaker', nextProbeAt: expect.any(String) });
  await eventually(async () => !(await gateState(h.client, sub.id)).held, 'the probe to release it', 50_000);
  const results = await Promise.all(ids.map((id) => h.client.workflow.getHandle(id).result()));
  expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
  expect(new Set(sub.seen.map((s) => s.webhookId)).size).toBe(3);
  expect(sub.seen).toHaveLength(3);
}, 70_000);

describe('retry now', () => {
  test('a delivery in backoff sends its next attempt now, its number going on', async () => {
    let calls = 0;
    // The first answer asks for a minute's wait: without retry now the next attempt is far off.
    const sub = await receiverSubscription(() =>
      ++calls === 1 ? { status: 503, headers: { 'retry-after': '60' } } : 200,
    );
    const { eventId } = await publish(h, { type: 'shop.OrderPaid', data: {}, idempotencyKey: `${sub.run}-r` });
    const id = deliveryWorkflowId(eventId, sub.id);
    await eventually(async () => sub.seen.length === 1, 'the first attempt');
    await eventually(async () => {
      const res = await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(id)}/retry-now`);
      if (res.statusCode !== 202 && res.statusCode !== 409) throw new Error(`retry-now: ${res.statusCode} ${res.body}`);
      return res.statusCode === 202;
    }, 'retry now accepted while in backoff');
    const result = await h.client.workflow.getHandle(id).result();
    expect(result).toMatchObject({ status: 'delivered', attempt: 2 });
    expect(sub.seen.map((s) => s.attempt)).toEqual([1, 2]);
    const again = await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(id)}/retry-now`);
    expect(again.statusCode).toBe(409);
    const log = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(id)}/attempts`);
    expect((log.json().attempts as Array<{ attempt: number }>).map((a) => a.attempt)).toEqual([1, 2]);
  });
});
