import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { subscriptionWorkflowId } from '../../src/shared/subscription';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { makeTestPki, type TestPki } from '../support/pki';
import { adminApi, createSubscription, json, publish, verify } from '../support/outbound';
import { post, sign } from '../support/webhooks';

let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
sources:
  - { id: erp, kind: extend-commerce, secret: extend-secret }
  - { id: wms, kind: ongoing-wms, auth: { type: none } }
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

const hook = () => `${receiver.url}/hook/${randomUUID()}`;
const pathOf = (url: string) => new URL(url).pathname;

describe('admin API', () => {
  test('fields that reach Temporal limits are bounded up front: an oversize update is a 400 and leaves the subscription intact', async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `published-event.SomeRatherLongEventTypeName${i}`);
    const create = (fields: Record<string, unknown>) =>
      adminApi(h, 'POST', '/api/subscriptions', {
        id: `bounds-${randomUUID().slice(0, 8)}`,
        name: 'n',
        contactEmail: 'a@b.se',
        url: hook(),
        triggers: ['*'],
        ...fields,
      });
    // 40+ triggers used to be a 500 on create (HookflowTriggers over Temporal's 2,048-byte value limit).
    const tooMany = await create({ triggers: many(45) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.body).toMatch(/triggers/);
    // Receiver URLs the HTTP client would mangle or silently strip.
    for (const url of [
      ` ${hook()}`,
      `${hook()}\n`,
      `${hook()}?${'x'.repeat(100_000)}`,
      hook().replace('http://', 'http://user:password@'),
    ]) {
      const res = await create({ url });
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(/url/);
    }
    // A duration no timer can hold.
    const forever = await create({ connectionTimeout: 'P1000W' });
    expect(forever.statusCode).toBe(400);
    expect(forever.body).toMatch(/connectionTimeout/);

    const id = await createSubscription(h, {
      url: hook(),
      secret: 'kept-secret-value',
      triggers: ['extend-commerce.*'],
    });
    const patched = await adminApi(h, 'PATCH', `/api/subscriptions/${id}`, { triggers: many(80) });
    expect(patched.statusCode).toBe(400);
    expect(patched.body).toMatch(/triggers/);
    // The workflow is still running with its previous state and its sealed secret.
    const after = await adminApi(h, 'GET', `/api/subscriptions/${id}`);
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({ triggers: ['extend-commerce.*'], secret: '********' });
    const description = await h.client.workflow.getHandle(subscriptionWorkflowId(id)).describe();
    expect(description.status.name).toBe('RUNNING');
  });

  test('needs the bearer token', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/api/subscriptions' })).statusCode).toBe(401);
    expect(
      (
        await h.app.inject({
          method: 'GET',
          url: '/api/subscriptions',
          headers: { authorization: 'Bearer wrong-token-wrong-token' },
        })
      ).statusCode,
    ).toBe(401);
  });

  test('create, get, list, update, disable/enable, delete; secrets never returned', async () => {
    const url = hook();
    const created = await adminApi(h, 'POST', '/api/subscriptions', {
      id: 'crud-1',
      name: 'Warehouse sync',
      contactEmail: 'tech@example.com',
      url,
      secret: 'very-secret-value',
      triggers: ['ongoing-wms.*'],
      filter: { goodsOwners: [162, 7] },
      auth: { type: 'basic', username: 'u', password: 'basic-password-value' },
      key: 'query-key-value',
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toMatch(/very-secret-value|basic-password-value|query-key-value|sealed:/);
    expect(created.json()).toMatchObject({
      id: 'crud-1',
      active: true,
      retryPolicy: 'one-day',
      signature: 'ms-signature',
      connectionTimeout: 'PT30S',
      secret: '********',
      key: '********',
      auth: { type: 'basic', username: 'u', password: '********' },
      tls: { verify: true },
    });

    expect(
      (
        await adminApi(h, 'POST', '/api/subscriptions', {
          id: 'crud-1',
          name: 'x',
          contactEmail: 'a@b.se',
          url,
          triggers: ['*'],
        })
      ).statusCode,
    ).toBe(409);
    expect((await adminApi(h, 'GET', '/api/subscriptions/crud-1')).json()).toMatchObject({ name: 'Warehouse sync' });

    const updated = await adminApi(h, 'PATCH', '/api/subscriptions/crud-1', {
      name: 'Renamed',
      retryPolicy: 'none',
      connectionTimeout: 'PT60S',
      secret: null,
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({
      name: 'Renamed',
      retryPolicy: 'none',
      connectionTimeout: 'PT60S',
      secret: null,
      key: '********',
    });

    expect((await adminApi(h, 'POST', '/api/subscriptions/crud-1/disable')).json().active).toBe(false);
    expect((await adminApi(h, 'POST', '/api/subscriptions/crud-1/enable')).json().active).toBe(true);

    // State lives in the subscription's workflow: its history holds sealed secrets only.
    const history = JSON.stringify(await h.client.workflow.getHandle(subscriptionWorkflowId('crud-1')).fetchHistory());
    expect(history).not.toMatch(/very-secret-value|basic-password-value|query-key-value/);

    expect((await adminApi(h, 'DELETE', '/api/subscriptions/crud-1')).statusCode).toBe(204);
    expect((await adminApi(h, 'GET', '/api/subscriptions/crud-1')).statusCode).toBe(404);
    expect((await adminApi(h, 'PATCH', '/api/subscriptions/crud-1', { name: 'x' })).statusCode).toBe(404);
  });

  test.each([
    ['a bad URL', { url: 'ftp://x' }, 'url'],
    ['no triggers', { triggers: [] }, 'triggers'],
    ['a malformed trigger', { triggers: ['OrderCreated'] }, 'triggers'],
    ['an unknown retry policy', { retryPolicy: 'forever' }, 'retryPolicy'],
    ['a bad timeout', { connectionTimeout: '30s' }, 'connectionTimeout'],
    ['a bad email', { contactEmail: 'nope' }, 'contactEmail'],
    ['standard-webhooks without secret', { signature: 'standard-webhooks', secret: undefined }, 'secret'],
    ['an unknown field', { colour: 'red' }, 'colour'],
  ])('400 for %s, naming the field', async (_name, change, field) => {
    const body = {
      id: `bad-${randomUUID().slice(0, 8)}`,
      name: 'x',
      contactEmail: 'a@b.se',
      url: hook(),
      secret: 's',
      triggers: ['*'],
      ...change,
    };
    const res = await adminApi(h, 'POST', '/api/subscriptions', body);
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain(field);
  });
});

describe('fan-out', () => {
  test('an inbound event goes to every active subscription whose triggers and filters match', async () => {
    const urls = { all: hook(), adr: hook(), yx: hook(), wms: hook(), off: hook() };
    const ids = {
      all: await createSubscription(h, { url: urls.all, triggers: ['*'] }),
      adr: await createSubscription(h, {
        url: urls.adr,
        triggers: ['extend-commerce.*'],
        filter: { warehouses: ['ADR-1'] },
      }),
      yx: await createSubscription(h, {
        url: urls.yx,
        triggers: ['extend-commerce.OrderCreated'],
        filter: { warehouses: ['YX'] },
      }),
      wms: await createSubscription(h, { url: urls.wms, triggers: ['ongoing-wms.*'] }),
      off: await createSubscription(h, { url: urls.off, triggers: ['*'], active: false }),
    };
    const body = JSON.stringify({
      Id: 'f1',
      Notifications: [{ Action: 'OrderCreated', Details: { OrderNumber: 'FO-1', Warehouse: 'ADR-1' } }],
    });
    const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms('extend-secret', body) });
    const outcome = await h.client.workflow.getHandle(res.json().events[0].workflowId).result();
    const reached = outcome.deliveries
      .map((d: { subscriptionId: string }) => d.subscriptionId)
      .filter((id: string) => Object.values(ids).includes(id));
    expect(reached.sort()).toEqual([ids.all, ids.adr].sort());
    await Promise.all(
      outcome.deliveries.map((d: { workflowId: string }) => h.client.workflow.getHandle(d.workflowId).result()),
    );
    expect(receiver.requestsTo(pathOf(urls.adr))).toHaveLength(1);
    expect(receiver.requestsTo(pathOf(urls.yx))).toHaveLength(0);
    expect(receiver.requestsTo(pathOf(urls.wms))).toHaveLength(0);
    expect(receiver.requestsTo(pathOf(urls.off))).toHaveLength(0);
    for (const id of Object.values(ids)) await adminApi(h, 'DELETE', `/api/subscriptions/${id}`);
  });

  test('publishing twice with one idempotency key is one event and one delivery', async () => {
    const url = hook();
    const id = await createSubscription(h, { url, triggers: ['shop.InvoicePaid'], signature: 'x-signature' });
    const key = `inv-${randomUUID()}`;
    const first = await publish(h, { type: 'shop.InvoicePaid', data: { invoice: 1 }, idempotencyKey: key });
    const again = await publish(h, { type: 'shop.InvoicePaid', data: { invoice: 1 }, idempotencyKey: key });
    expect(first).toMatchObject({ eventId: `api/${key}`, duplicate: false });
    expect(again).toMatchObject({ eventId: `api/${key}`, duplicate: true });
    await h.client.workflow.getHandle(first.workflowId).result();
    await h.client.workflow.getHandle(deliveryWorkflowId(first.eventId, id)).result();
    expect(receiver.requestsTo(pathOf(url))).toHaveLength(1);
    expect(json(receiver.requestsTo(pathOf(url))[0]!)).toMatchObject({
      id: `api/${key}`,
      type: 'shop.InvoicePaid',
      data: { invoice: 1 },
    });
  });

  test('publish validates its input', async () => {
    expect(
      (await adminApi(h, 'POST', '/api/events', { type: 'extend-commerce.OrderCreated', data: {} })).statusCode,
    ).toBe(400);
    expect((await adminApi(h, 'POST', '/api/events', { type: 'shop.X' })).statusCode).toBe(400);
    expect(
      (await adminApi(h, 'POST', '/api/events', { type: 'shop.X', data: {}, idempotencyKey: 'has space' })).statusCode,
    ).toBe(400);
  });
});

describe('test trigger', () => {
  test('temporal workflow signal --name test (the real CLI) sends a signed test event', async () => {
    const url = hook();
    const id = await createSubscription(h, {
      url,
      triggers: ['shop.Nothing'],
      signature: 'x-signature',
      secret: 'test-secret',
    });
    execFileSync(
      process.env.TEMPORAL_CLI!,
      [
        'workflow',
        'signal',
        '--address',
        h.config.temporal.address,
        '--namespace',
        h.config.temporal.namespace,
        '--workflow-id',
        `subscription/${id}`,
        '--name',
        'test',
      ],
      { stdio: 'pipe' },
    );
    const [request] = await eventually(
      async () => receiver.requestsTo(pathOf(url)).length > 0 && receiver.requestsTo(pathOf(url)),
      'the test delivery',
    );
    expect(verify.x('test-secret', request!)).toBe(true);
    expect(json(request!)).toMatchObject({ type: 'hookflow.test', data: { subscriptionId: id } });
  });

  test('POST /api/subscriptions/:id/test does the same', async () => {
    const url = hook();
    const id = await createSubscription(h, { url, triggers: ['shop.Nothing'], secret: 's' });
    expect((await adminApi(h, 'POST', `/api/subscriptions/${id}/test`)).statusCode).toBe(202);
    const [request] = await eventually(
      async () => receiver.requestsTo(pathOf(url)).length > 0 && receiver.requestsTo(pathOf(url)),
      'the test delivery',
    );
    expect(verify.ms('s', request!)).toBe(true);
    expect(json(request!).Notifications[0].Action).toBe('hookflow.test');
    expect((await adminApi(h, 'POST', '/api/subscriptions/nope/test')).statusCode).toBe(404);
  });
});

describe('TLS', () => {
  let pki: TestPki;
  let tlsReceiver: FakeHttpPeer;

  beforeAll(async () => {
    pki = makeTestPki();
    tlsReceiver = await new FakeHttpPeer(() => ({ status: 200 }), {
      key: pki.serverKey,
      cert: pki.serverCert,
      ca: pki.caCert,
      requestCert: true,
      rejectUnauthorized: true,
    }).start();
  });
  afterAll(() => tlsReceiver.stop());

  async function deliverTo(fields: Record<string, unknown>) {
    const id = await createSubscription(h, {
      url: `${tlsReceiver.url}/mtls`,
      triggers: ['tls.Ping'],
      retryPolicy: 'none',
      ...fields,
    });
    const { eventId, workflowId } = await publish(h, { type: 'tls.Ping', data: {} });
    await h.client.workflow.getHandle(workflowId).result();
    const outcome = await h.client.workflow
      .getHandle(deliveryWorkflowId(eventId, id))
      .result()
      .then(
        (result) => ({ ok: true as const, result }),
        (err: Error & { cause?: Error }) => ({ ok: false as const, message: err.cause?.message ?? err.message }),
      );
    await adminApi(h, 'DELETE', `/api/subscriptions/${id}`);
    return outcome;
  }

  test('mutual TLS with the subscription CA and client certificate', async () => {
    const before = tlsReceiver.requests.length;
    const outcome = await deliverTo({ tls: { ca: pki.caCert, clientCert: pki.clientCert, clientKey: pki.clientKey } });
    expect(outcome).toMatchObject({ ok: true, result: { status: 'delivered' } });
    expect(tlsReceiver.requests.slice(before)[0]?.clientCertCN).toBe('hookflow-client');
  });

  test('without the client certificate the handshake is refused', async () => {
    expect(await deliverTo({ tls: { ca: pki.caCert } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/connection failed/),
    });
  });

  test('an unknown CA is refused by default; trusting all is an explicit opt-in', async () => {
    expect(await deliverTo({ tls: { clientCert: pki.clientCert, clientKey: pki.clientKey } })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/connection failed/),
    });
    expect(
      await deliverTo({ tls: { verify: false, clientCert: pki.clientCert, clientKey: pki.clientKey } }),
    ).toMatchObject({ ok: true });
  });
});
