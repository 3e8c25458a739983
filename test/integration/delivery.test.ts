import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { InboundWorkflowResult } from '../../src/shared/inbound';
import { deliveryWorkflowId, type DeliveryResult } from '../../src/shared/delivery';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer, type Responder } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, deliverPublished, json, publish, subscribe, verify } from '../support/outbound';
import { erpSourceYaml, post, sign } from '../support/webhooks';

const SECRET = 'subscriber-secret-123';
let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer().start();
  h = await startHarness(
    testConfig(`
delivery: { oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT2S, window: PT20S } }
sources:
${erpSourceYaml('extend-secret', sourceApi.url)}
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await sourceApi?.stop();
});

const subscriber = (responder: Responder, fields: Record<string, unknown> = {}) =>
  subscribe(h, receiver, responder, { secret: SECRET, ...fields });
const deliver = (subscriptionId: string, extra: Record<string, unknown> = {}) =>
  deliverPublished(h, subscriptionId, extra);

describe('signature schemes, checked by independent verifiers', () => {
  test('ms-signature: Extend envelope with fetched data, signed per attempt', async () => {
    sourceApi.on('/orders/E-1', () => ({ status: 200, body: { order: 'E-1', lines: 2 } }));
    const sub = await subscriber(() => ({ status: 200 }), {
      signature: 'ms-signature',
      triggers: ['extend-commerce.OrderCreated'],
    });
    const body = JSON.stringify({
      Id: 'abc',
      Attempt: 1,
      Properties: { NotificationId: randomUUID() },
      Notifications: [{ Action: 'OrderCreated', Details: { OrderNumber: 'E-1' } }],
    });
    const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms('extend-secret', body) });
    expect(res.statusCode).toBe(202);
    const eventId = `erp/${JSON.parse(body).Properties.NotificationId}-0`;
    await h.client.workflow.getHandle(res.json().events[0].workflowId).result();
    const result: DeliveryResult = await h.client.workflow.getHandle(deliveryWorkflowId(eventId, sub.id)).result();
    expect(result).toMatchObject({ status: 'delivered', httpStatus: 200, attempt: 1 });
    const [request] = sub.requests();
    expect(verify.ms(SECRET, request!)).toBe(true);
    const envelope = json(request!);
    expect(envelope).toMatchObject({
      Attempt: 1,
      Properties: { NotificationId: expect.any(String) },
      Notifications: [
        {
          Action: 'OrderCreated',
          Details: { OrderNumber: 'E-1' },
          Data: { order: 'E-1', lines: 2 },
          FetchedAt: expect.any(String),
        },
      ],
    });
    expect(Date.parse(envelope.Notifications[0].FetchedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(envelope.Id).toMatch(/^[0-9a-f]{32}$/);
  });

  test('x-signature: hex HMAC-SHA256 of the body', async () => {
    const sub = await subscriber(() => ({ status: 200 }), { signature: 'x-signature' });
    await (await deliver(sub.id)).result();
    const [request] = sub.requests();
    expect(verify.x(SECRET, request!)).toBe(true);
    expect(json(request!)).toMatchObject({
      type: 'shop.OrderPaid',
      data: { orderNumber: 'SO-1', amount: 42 },
      attempt: 1,
    });
  });

  test('standard-webhooks: webhook-id, webhook-timestamp and v1 signature over id.timestamp.body', async () => {
    const secret = `whsec_${Buffer.from('a 24 byte secret value!!').toString('base64')}`;
    const sub = await subscriber(() => ({ status: 200 }), { signature: 'standard-webhooks', secret });
    await (await deliver(sub.id)).result();
    const [request] = sub.requests();
    expect(verify.standard(secret, request!)).toBe(true);
    expect(verify.standard(`whsec_${Buffer.from('another secret').toString('base64')}`, request!)).toBe(false);
  });
});

describe('receiver authentication', () => {
  test('basic, x-auth-token and the key parameter', async () => {
    const basic = await subscriber(() => ({ status: 200 }), {
      auth: { type: 'basic', username: 'hook', password: 'p4ss' },
    });
    const token = await subscriber(() => ({ status: 200 }), { auth: { type: 'x-auth-token', token: 'tok-xyz' } });
    const keyed = await subscriber(() => ({ status: 200 }), { key: 'QueryParameterKey' });
    await Promise.all([basic, token, keyed].map(async (s) => (await deliver(s.id)).result()));
    expect(basic.requests()[0]?.headers.authorization).toBe(`Basic ${Buffer.from('hook:p4ss').toString('base64')}`);
    expect(token.requests()[0]?.headers['x-auth-token']).toBe('tok-xyz');
    expect(new URL(keyed.requests()[0]!.url, 'http://x').searchParams.get('key')).toBe('QueryParameterKey');
  });
});

describe('responses and retries', () => {
  test('503 then 200 is retried and delivered; attempts and status are searchable', async () => {
    let calls = 0;
    const sub = await subscriber(() => (++calls < 3 ? { status: 503 } : { status: 200 }));
    const handle = await deliver(sub.id);
    expect(await handle.result()).toMatchObject({ status: 'delivered', attempt: 3, httpStatus: 200 });
    const attempts = sub.requests().map((r) => r.headers['x-hookflow-attempt']);
    expect(attempts).toEqual(['1', '2', '3']);
    const d = await handle.describe();
    expect(d.typedSearchAttributes.get(SA.status)).toBe('delivered');
    expect(d.typedSearchAttributes.get(SA.attempts)).toBe(3);
    expect(d.typedSearchAttributes.get(SA.httpStatus)).toBe(200);
  });

  test.each([408, 429, 500, 302])('%d is retryable', async (code) => {
    let calls = 0;
    const sub = await subscriber(() =>
      ++calls === 1
        ? { status: code, headers: code === 302 ? { location: '/elsewhere' } : undefined }
        : { status: 204 },
    );
    expect(await (await deliver(sub.id)).result()).toMatchObject({ status: 'delivered', attempt: 2 });
  });

  test.each([400, 401, 403, 404, 422])('%d is not retried: the delivery fails after one attempt', async (code) => {
    const sub = await subscriber(() => ({ status: code }));
    const handle = await deliver(sub.id);
    const failure = await handle.result().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(new RegExp(`HTTP ${code}`));
    expect(sub.requests()).toHaveLength(1);
    expect((await handle.describe()).typedSearchAttributes.get(SA.status)).toBe('failed');
  });

  test('Retry-After is honoured', async () => {
    let calls = 0;
    const sub = await subscriber(() =>
      ++calls === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    await (await deliver(sub.id)).result();
    const [first, second] = sub.requests();
    // The policy's own next interval is 0.2 s; the receiver asked for 2 s.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1900);
  });

  test('410 Gone fails the delivery and disables the subscription; later events are not delivered', async () => {
    const sub = await subscriber(() => ({ status: 410 }));
    const failure = await (await deliver(sub.id)).result().catch((e: WorkflowFailedError) => e);
    expect(failure.cause?.message).toMatch(/410.*subscription disabled/);
    const view = (await adminApi(h, 'GET', `/api/subscriptions/${sub.id}`)).json();
    expect(view).toMatchObject({ active: false, disabledReason: expect.stringMatching(/410 Gone/) });
    // Checked on what the inbound workflow planned (its delivery children are abandoned, they would run
    // after it ends): no delivery to the disabled subscription, and no such delivery workflow exists.
    const { eventId, workflowId } = await publish(h, { type: 'shop.OrderPaid', data: {} });
    const planned = (await h.client.workflow.getHandle(workflowId).result()) as InboundWorkflowResult;
    expect(planned.status).toBe('handed-off');
    expect(planned.deliveries?.map((d) => d.subscriptionId)).not.toContain(sub.id);
    await expect(h.client.workflow.getHandle(deliveryWorkflowId(eventId, sub.id)).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
    expect(sub.requests()).toHaveLength(1);
  });

  test('a receiver slower than the connection timeout fails the attempt', async () => {
    const sub = await subscriber(() => new Promise((resolve) => setTimeout(() => resolve({ status: 200 }), 3000)), {
      connectionTimeout: 'PT1S',
      retryPolicy: 'none',
    });
    const handle = await deliver(sub.id);
    const failure = await handle.result().catch((e: WorkflowFailedError) => e);
    expect(failure.cause?.message).toMatch(/no response within 1000 ms/);
  });

  test('retry policy none: exactly one attempt, then Failed; retried through the API it is delivered', async () => {
    let healthy = false;
    const sub = await subscriber(() => ({ status: healthy ? 200 : 503 }), { retryPolicy: 'none' });
    const handle = await deliver(sub.id);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(sub.requests()).toHaveLength(1);

    const id = encodeURIComponent(handle.workflowId);
    const failed = (await adminApi(h, 'GET', `/api/deliveries/${id}`)).json();
    expect(failed).toMatchObject({
      workflowStatus: 'FAILED',
      status: 'failed',
      attempts: 1,
      lastHttpStatus: 503,
      lastError: expect.stringMatching(/HTTP 503/),
    });

    healthy = true;
    const retry = await adminApi(h, 'POST', `/api/deliveries/${id}/retry`);
    expect(retry.statusCode).toBe(202);
    expect(await h.client.workflow.getHandle(handle.workflowId, retry.json().runId).result()).toMatchObject({
      status: 'delivered',
    });
    expect(sub.requests()).toHaveLength(2);
    const delivered = await eventually(async () => {
      const view = (await adminApi(h, 'GET', `/api/deliveries/${id}`)).json();
      return view.workflowStatus === 'COMPLETED' && view;
    }, 'delivery view to show completion');
    expect(delivered).toMatchObject({ status: 'delivered', lastHttpStatus: 200 });
    expect((await adminApi(h, 'POST', `/api/deliveries/${id}/retry`)).statusCode).toBe(409);
  });
});
