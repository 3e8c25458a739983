import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { FailureType } from '../../src/shared/failure-types';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription, json, publish, verify } from '../support/outbound';

/**
 * Transformations (`transform`, JSONata): the receiver gets the transformed body, signed as sent, checked
 * at a loopback receiver with the `standardwebhooks` library (an implementation independent of hookflow's
 * signer) and with the test suite's own X-Signature verifier; a failing transformation stops the delivery
 * with its reason in the attempt log; "try it" runs an unsaved transformation on a real event.
 */
const WHSEC = `whsec_${randomBytes(24).toString('base64')}`;
const X_SECRET = 'tf-x-secret';
const TRANSFORM = {
  body: '{"order": data.orderNumber, "amountCents": data.total * 100, "event": type, "lines": $count(data.lines)}',
  headers: { 'x-order': 'data.orderNumber', 'x-api-version': 'Version 2' },
};

let receiver: FakeHttpPeer;
let h: Harness;
let standard: string;
let xsig: string;
let broken: string;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(testConfig(''));
  const subscription = (name: string, fields: Record<string, unknown>) =>
    createSubscription(h, {
      id: `tf-${name}`,
      url: `${receiver.url}/${name}`,
      triggers: ['shop.*'],
      retryPolicy: 'one-day',
      ...fields,
    });
  [standard, xsig, broken] = await Promise.all([
    subscription('standard', { signature: 'standard-webhooks', secret: WHSEC, transform: TRANSFORM }),
    subscription('xsig', { signature: 'x-signature', secret: X_SECRET, transform: { body: 'data.lines[qty > 1]' } }),
    subscription('broken', {
      signature: 'x-signature',
      secret: X_SECRET,
      transform: { body: 'data.total + data.customer' },
    }),
  ]);
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

const order = {
  orderNumber: 'SO-77',
  total: 12.5,
  customer: 'C-9',
  lines: [
    { sku: 'A', qty: 1 },
    { sku: 'B', qty: 3 },
  ],
};

test('the receiver gets the transformed body and headers, and the signature covers that body', async () => {
  const { eventId } = await publish(h, { type: 'shop.OrderPaid', data: order, idempotencyKey: 'tf-1' });
  await eventually(
    async () => receiver.requestsTo('/standard').length === 1 && receiver.requestsTo('/xsig').length === 1,
    'both transformed deliveries',
  );

  const [sent] = receiver.requestsTo('/standard');
  expect(json(sent!)).toEqual({ order: 'SO-77', amountCents: 1250, event: 'shop.OrderPaid', lines: 2 });
  expect(sent!.headers['x-order']).toBe('SO-77');
  expect(sent!.headers['x-api-version']).toBe('Version 2');
  expect(sent!.headers['x-hookflow-event-id']).toBe(eventId);
  // The standardwebhooks library verifies the signature over exactly the bytes received.
  const headers = Object.fromEntries(Object.entries(sent!.headers).map(([k, v]) => [k, String(v)]));
  expect(new Webhook(WHSEC).verify(sent!.body.toString('utf8'), headers)).toEqual(json(sent!));
  expect(() => new Webhook(WHSEC).verify(sent!.body.toString('utf8').replace('SO-77', 'SO-78'), headers)).toThrow();

  const [x] = receiver.requestsTo('/xsig');
  expect(json(x!)).toEqual({ sku: 'B', qty: 3 });
  expect(verify.x(X_SECRET, x!)).toBe(true);
});

test('a failing transformation stops the delivery at once, with the reason in the attempt log', async () => {
  const { eventId, workflowId } = await publish(h, { type: 'shop.OrderPaid', data: order, idempotencyKey: 'tf-2' });
  await h.client.workflow.getHandle(workflowId).result(); // handed off: the deliveries are started
  const id = deliveryWorkflowId(eventId, broken);
  const failure = await h.client.workflow
    .getHandle(id)
    .result()
    .then(
      () => undefined,
      (err: Error & { cause?: Error }) => err.cause?.message,
    );
  expect(failure).toMatch(/failed after 1 attempt\(s\): TransformFailed: transformation failed: T2002/);

  const log = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(id)}/attempts`);
  expect(log.statusCode).toBe(200);
  expect(log.json().attempts).toEqual([
    expect.objectContaining({
      attempt: 1,
      outcome: 'stop',
      failureType: FailureType.TransformFailed,
      error: expect.stringMatching(/^transformation failed: T2002 .* at position \d+/),
    }),
  ]);
  expect(receiver.requestsTo('/broken')).toHaveLength(0);
});

test('try it: an unsaved transformation on a recent real event, its error with the position, 400 when invalid', async () => {
  await eventually(async () => receiver.requestsTo('/standard').length >= 1, 'a delivered event');
  const url = `/api/subscriptions/${standard}/transform/try`;
  const ok = await adminApi(h, 'POST', url, { transform: { body: '{"n": data.orderNumber, "skus": data.lines.sku}' } });
  expect(ok.statusCode).toBe(200);
  expect(ok.json()).toMatchObject({
    eventType: 'shop.OrderPaid',
    result: { ok: true, body: { n: 'SO-77', skus: ['A', 'B'] }, headers: {} },
  });

  const failing = await adminApi(h, 'POST', url, { transform: { body: 'data.total + data.customer' } });
  expect(failing.statusCode).toBe(422);
  expect(failing.json().result).toMatchObject({
    ok: false,
    error: expect.stringMatching(/^T2002/),
    position: expect.any(Number),
  });

  const invalid = await adminApi(h, 'POST', url, { transform: { body: '{"n": data.orderNumber' } });
  expect(invalid.statusCode).toBe(400);
  expect(invalid.json().message).toMatch(/transform\/body: invalid JSONata: .* at position \d+/);

  const byEvent = await adminApi(h, 'POST', url, {
    transform: { body: 'data.customer' },
    eventId: 'api/no-such-event',
  });
  expect(byEvent.statusCode).toBe(404);
  const unknown = await adminApi(h, 'POST', '/api/subscriptions/tf-nobody/transform/try', {
    transform: { body: 'data' },
  });
  expect(unknown.statusCode).toBe(404);
  expect(xsig).toBeDefined();
});
