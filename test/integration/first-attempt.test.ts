import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { SA } from '../../src/shared/search-attributes';
import { holdSubscription, releaseSubscription } from '../../src/temporal/hold';
import type { FakeHttpPeer } from '../support/fake-http';
import { eventually, FAST_RETRIES, startWithReceiver, stopWithReceiver, type Harness } from '../support/harness';
import { adminApi, createSubscription, publish, waitForDeliveryStatus } from '../support/outbound';

// The first attempt of a delivery is a local activity (docs/performance.md): against the real worker on
// the dev server and a loopback receiver. Retries are fast (0.2 s .. 1 s).
const { EventType } = temporal.api.enums.v1;
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  ({ h, receiver } = await startWithReceiver(FAST_RETRIES));
});

afterAll(() => stopWithReceiver({ h, receiver }));

interface Seen {
  webhookId: string;
  attempt: number;
}

/** A standard-webhooks subscription at a fresh path whose receiver answers the statuses in turn (the last one from then on). */
async function receiverSubscription(statuses: Array<number | { status: number; headers: Record<string, string> }>) {
  const path = `/first/${randomUUID().slice(0, 8)}`;
  const seen: Seen[] = [];
  receiver.on(path, (request) => {
    seen.push({
      webhookId: String(request.headers['webhook-id']),
      attempt: Number(request.headers['x-hookflow-attempt']),
    });
    const answer = statuses[Math.min(seen.length, statuses.length) - 1]!;
    return typeof answer === 'number' ? { status: answer } : answer;
  });
  const id = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    signature: 'standard-webhooks',
    triggers: ['shop.*'],
    retryPolicy: 'one-day',
  });
  const send = async () => {
    const { eventId, workflowId } = await publish(h, {
      type: 'shop.OrderPaid',
      data: {},
      idempotencyKey: randomUUID(),
    });
    await h.client.workflow.getHandle(workflowId).result(); // handed off: the delivery exists
    return deliveryWorkflowId(eventId, id);
  };
  return { id, seen, send };
}

/** How many events of each kind the delivery's history has (activity tasks, markers). */
async function historyCounts(workflowId: string) {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const count = (type: number) => (history.events ?? []).filter((e) => e.eventType === type).length;
  const localMarkers = (history.events ?? []).filter(
    (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  ).length;
  return { scheduled: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), localMarkers };
}

const attemptLog = async (workflowId: string) =>
  (await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(workflowId)}/attempts`)).json() as {
    attempts: Array<{ attempt: number; httpStatus?: number; outcome: string }>;
  };

test('200: one request, delivered by the local activity; no activity task in the history', async () => {
  const sub = await receiverSubscription([200]);
  const id = await sub.send();
  const result = await h.client.workflow.getHandle(id).result();
  expect(result).toMatchObject({ status: 'delivered', attempt: 1, httpStatus: 200 });
  expect(sub.seen.map((s) => s.attempt)).toEqual([1]);
  // The local activity's marker, plus the requestPermit-free path: no ActivityTaskScheduled at all.
  expect(await historyCounts(id)).toEqual({ scheduled: 0, localMarkers: 1 });
  const d = await h.client.workflow.getHandle(id).describe();
  expect(d.typedSearchAttributes.get(SA.status)).toBe('delivered');
  expect(d.typedSearchAttributes.get(SA.attempts)).toBe(1);
  expect((await attemptLog(id)).attempts).toMatchObject([{ attempt: 1, httpStatus: 200, outcome: 'delivered' }]);
});

test('503 then 200: the second attempt is a regular activity, attempt 2, same webhook-id; both in the log', async () => {
  const sub = await receiverSubscription([503, 200]);
  const id = await sub.send();
  const result = await h.client.workflow.getHandle(id).result();
  expect(result).toMatchObject({ status: 'delivered', attempt: 2, httpStatus: 200 });
  expect(sub.seen.map((s) => s.attempt)).toEqual([1, 2]);
  expect(new Set(sub.seen.map((s) => s.webhookId)).size).toBe(1);
  // The failed local attempt, then one regular activity (the Web UI's pending activity) that delivered.
  expect(await historyCounts(id)).toEqual({ scheduled: 1, localMarkers: 1 });
  const d = await h.client.workflow.getHandle(id).describe();
  expect(d.typedSearchAttributes.get(SA.attempts)).toBe(2);
  expect((await attemptLog(id)).attempts).toMatchObject([
    { attempt: 1, httpStatus: 503, outcome: 'retry' },
    { attempt: 2, httpStatus: 200, outcome: 'delivered' },
  ]);
});

test('in the wait after a failed first attempt: the API shows the failure and the next attempt; retry now sends it', async () => {
  const sub = await receiverSubscription([{ status: 503, headers: { 'retry-after': '60' } }, 200]);
  const id = await sub.send();
  const path = `/api/deliveries/${encodeURIComponent(id)}`;
  const view = await eventually(async () => {
    const res = (await adminApi(h, 'GET', path)).json() as { lastError: string | null; nextAttemptAt: string | null };
    return res.lastError !== null && res;
  }, 'the first attempt failed');
  expect(view.lastError).toBe('Http503: receiver answered HTTP 503 Service Unavailable');
  expect(Date.parse(view.nextAttemptAt!)).toBeGreaterThan(Date.now() + 30_000); // Retry-After: 60
  const log = await adminApi(h, 'GET', `${path}/attempts`);
  expect(log.json().pending).toMatchObject({ attempt: 2, state: 'scheduled' });
  expect((await adminApi(h, 'POST', `${path}/retry-now`)).statusCode).toBe(202);
  expect(await h.client.workflow.getHandle(id).result()).toMatchObject({ status: 'delivered', attempt: 2 });
  expect(sub.seen.map((s) => s.attempt)).toEqual([1, 2]);
});

test.each([410, 422])('%i on the first attempt ends the delivery with one request', async (status) => {
  const sub = await receiverSubscription([status, 200]);
  const id = await sub.send();
  await expect(h.client.workflow.getHandle(id).result()).rejects.toBeInstanceOf(WorkflowFailedError);
  expect(sub.seen.map((s) => s.attempt)).toEqual([1]);
  expect(await historyCounts(id)).toEqual({ scheduled: 0, localMarkers: 1 });
  expect((await attemptLog(id)).attempts).toMatchObject([{ attempt: 1, httpStatus: status, outcome: 'stop' }]);
  const d = await h.client.workflow.getHandle(id).describe();
  expect(d.typedSearchAttributes.get(SA.status)).toBe('failed');
  expect(d.typedSearchAttributes.get(SA.attempts)).toBe(1);
});

test('held: the local first attempt meets the gate and sends nothing; after release, delivered once', async () => {
  const sub = await receiverSubscription([200]);
  await holdSubscription(h.client, sub.id, { by: 'operator', reason: 'first attempt' });
  const id = await sub.send();
  await waitForDeliveryStatus(h, [id], 'held');
  expect(sub.seen).toHaveLength(0);
  await releaseSubscription(h.client, sub.id, { by: 'operator' });
  const result = await h.client.workflow.getHandle(id).result();
  expect(result).toMatchObject({ status: 'delivered', attempt: 1 });
  expect(sub.seen.map((s) => s.attempt)).toEqual([1]);
  // The local attempt that met the gate, the permit request (local too), then the permitted regular attempt.
  const counts = await historyCounts(id);
  expect(counts.scheduled).toBe(1);
  expect(counts.localMarkers).toBeGreaterThanOrEqual(2);
});
