import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { InboundWorkflowResult } from '../../src/shared/inbound';
import type { DeliveryResult } from '../../src/shared/delivery';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer, type Responder } from '../support/fake-http';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, deliverPublished, subscribe } from '../support/outbound';
import { erpSourceYaml, extendBody, post, sign } from '../support/webhooks';

// Everything in these tests listens on loopback, which is exactly what the SSRF guard refuses: `closed`
// allows nothing, `loopback` allows 127.0.0.0/8 only. Both retry fast (0.2 s, within 5 s or 20 s), so a
// refusal that were retried would show up as a second attempt in the workflow's history within the test.

let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let closed: Harness;
let loopback: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer(() => ({ status: 200, body: { ok: true } })).start();
  [closed, loopback] = await Promise.all([
    startHarness(
      testConfig(`
network: { allow: [] }
delivery: { oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT5S } }
sources:
${erpSourceYaml('extend-secret', sourceApi.url)}
`),
    ),
    startHarness(
      testConfig(`
network: { allow: ["127.0.0.0/8"] }
delivery: { oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT20S } }
`),
    ),
  ]);
});

afterAll(async () => {
  await Promise.all([closed?.stop(), loopback?.stop()]);
  await receiver?.stop();
  await sourceApi?.stop();
});

const subscriber = (h: Harness, responder: Responder, base = receiver.url) =>
  subscribe(h, receiver, responder, { secret: 'shh' }, base);
const deliver = deliverPublished;

/**
 * How often each activity type of a workflow ran, from its history: one ActivityTaskScheduled per
 * activity, whose ActivityTaskStarted carries the attempt it ended on (server-side retries add no events),
 * and one marker per local activity.
 */
async function attemptsByActivity(h: Harness, workflowId: string): Promise<Record<string, number>> {
  const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const typeOf = new Map<number, string>();
  const attempts: Record<string, number> = {};
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(Number(e.eventId), scheduled.activityType!.name!);
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = typeOf.get(Number(started.scheduledEventId))!;
      attempts[type] = (attempts[type] ?? 0) + (started.attempt ?? 1);
    }
    // A local activity (a delivery's first attempt): its marker's data names the type and the attempts.
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (data) {
      const local = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string; attempt?: number };
      attempts[local.activity_type] = (attempts[local.activity_type] ?? 0) + (local.attempt ?? 1);
    }
  }
  return attempts;
}

/** The delivery's failure: DeliveryFailed, caused by the activity's SsrfRefused. */
async function refusal(handle: Awaited<ReturnType<typeof deliver>>) {
  const failure = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const deliveryFailed = (failure as WorkflowFailedError).cause as ApplicationFailure;
  expect(deliveryFailed.type).toBe('DeliveryFailed');
  const cause = deliveryFailed.cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'SsrfRefused', nonRetryable: true });
  return cause.message;
}

describe('network.allow: [] (nothing internal allowed)', () => {
  test('a delivery to 127.0.0.1 fails permanently after one attempt, even on one-day; the receiver gets nothing', async () => {
    const sub = await subscriber(closed, () => ({ status: 200 }));
    const handle = await deliver(closed, sub.id);
    expect(await refusal(handle)).toBe('refused: 127.0.0.1 (loopback); allow it in network.allow');
    // Not retried: the workflow's history holds one delivery attempt in all.
    expect(await attemptsByActivity(closed, handle.workflowId)).toEqual({ deliver: 1 });
    expect(sub.requests()).toHaveLength(0);
    expect((await handle.describe()).typedSearchAttributes.get(SA.attempts)).toBe(1);
    const view = (await adminApi(closed, 'GET', `/api/deliveries/${encodeURIComponent(handle.workflowId)}`)).json();
    expect(view).toMatchObject({
      workflowStatus: 'FAILED',
      status: 'failed',
      attempts: 1,
      lastError: expect.stringMatching(/refused: 127\.0\.0\.1 \(loopback\)/),
    });
  });

  test('a host name resolving to loopback (localhost) is refused after DNS resolution', async () => {
    const sub = await subscriber(closed, () => ({ status: 200 }), receiver.url.replace('127.0.0.1', 'localhost'));
    const message = await refusal(await deliver(closed, sub.id));
    expect(message).toMatch(/^refused: (127\.0\.0\.1|::1) \(loopback\) for localhost; allow it in network.allow$/);
    expect(sub.requests()).toHaveLength(0);
  });

  test('a follow-up fetch to a refused address ends the event as follow-up-failed at once, not after 30 min of retries', async () => {
    const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'SSRF-1' } }]));
    const res = await post(closed.app, '/webhooks/erp', body, { 'ms-signature': sign.ms('extend-secret', body) });
    expect(res.statusCode).toBe(202);
    const workflowId = res.json().events[0].workflowId as string;
    const outcome = (await closed.client.workflow.getHandle(workflowId).result()) as InboundWorkflowResult;
    expect(outcome).toMatchObject({
      status: 'follow-up-failed',
      reason: 'refused: 127.0.0.1 (loopback); allow it in network.allow',
    });
    // Not retried: one fetch attempt in the inbound workflow's history.
    expect((await attemptsByActivity(closed, workflowId)).fetchFollowUp).toBe(1);
    expect(sourceApi.requests).toHaveLength(0);
  });
});

describe('network.allow: ["127.0.0.0/8"]', () => {
  test('the same delivery to 127.0.0.1 succeeds', async () => {
    const sub = await subscriber(loopback, () => ({ status: 200 }));
    const result: DeliveryResult = await (await deliver(loopback, sub.id)).result();
    expect(result).toMatchObject({ status: 'delivered', httpStatus: 200, attempt: 1 });
    expect(sub.requests()).toHaveLength(1);
  });

  test('redirects are not followed: a 302 (to metadata, or to another path) is a retryable answer', async () => {
    const targetPath = `/target/${randomUUID()}`;
    const redirects = [`http://169.254.169.254/latest/meta-data/`, `${receiver.url}${targetPath}`];
    const sub = await subscriber(loopback, (r) => {
      const location = redirects[Number(r.headers['x-hookflow-attempt']) - 1];
      return location ? { status: 302, headers: { location } } : { status: 200 };
    });
    // Following the first would end in SsrfRefused (169.254.169.254 is not allowed), the second would reach the target.
    expect(await (await deliver(loopback, sub.id)).result()).toMatchObject({ status: 'delivered', attempt: 3 });
    expect(sub.requests()).toHaveLength(3);
    expect(receiver.requestsTo(targetPath)).toHaveLength(0);
  });
});
