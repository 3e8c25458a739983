import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { inboundWorkflowId, type InboundWorkflowResult } from '../../src/shared/inbound';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer } from '../support/fake-http';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { extendBody, post, sign } from '../support/webhooks';
import purchasePartiallyDelivered from '../fixtures/extend-purchase-partially-delivered.json';
import productCreated from '../fixtures/extend-product-created.json';
import ongoingOrderPicked from '../fixtures/ongoing-order-picked.json';
import automationOrderAccepted from '../fixtures/automation-order-accepted.json';

const EXTEND_SECRET = 'extend-secret-Ω';
const ESIGN_SECRET = 'HeaderSecret';

let api: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  api = await new FakeHttpPeer().start();
  const config = testConfig(
    `
sources:
  - id: erp
    kind: extend-commerce
    secret: \${EXTEND_SECRET}
    filter: { warehouses: [GreenWarehouse, ADR-1] }
    followUp:
      urls:
        PurchasePartiallyDelivered: "${api.url}/purchases/{OrderNumber}"
        OrderCreated: "${api.url}/orders/{OrderNumber}"
      auth: { type: bearer, token: api-token }
      timeout: PT5S
  - id: wms
    kind: ongoing-wms
    auth: { type: basic, username: ongoing, password: wms-pass }
    filter: { goodsOwners: [162] }
    followUp:
      urls: { "*": "${api.url}/ongoing{+path}" }
  - id: wms-token
    kind: ongoing-wms
    auth: { type: x-auth-token, token: tok-123 }
  - id: esign
    kind: automation-api
    secret: ${ESIGN_SECRET}
    key: install-7
    followUp:
      urls: { "*": "${api.url}/automation/orders/{orderId}" }
`,
    { EXTEND_SECRET },
  );
  h = await startHarness(config);
});

afterAll(async () => {
  await h?.stop();
  await api?.stop();
});

const result = (workflowId: string) =>
  h.client.workflow.getHandle(workflowId).result() as Promise<InboundWorkflowResult>;

async function expectNoWorkflow(workflowId: string) {
  await expect(h.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

function postExtend(body: unknown, secret = EXTEND_SECRET) {
  const text = JSON.stringify(body);
  return post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms(secret, text) });
}

describe('Extend Commerce', () => {
  test('the seed body: 202, workflow filters, fetches the purchase and completes with the enriched event', async () => {
    api.on('/purchases/RP-101', () => ({ status: 200, body: { orderNumber: 'RP-101', rows: 3 } }));
    const res = await postExtend(purchasePartiallyDelivered);
    expect(res.statusCode).toBe(202);
    const workflowId = inboundWorkflowId('erp', '3b3fd4a6-36d5-46fe-8a3f-e73532529db3-0');
    expect(res.json()).toEqual({
      accepted: 1,
      events: [{ eventKey: '3b3fd4a6-36d5-46fe-8a3f-e73532529db3-0', workflowId, duplicate: false }],
    });

    const outcome = await result(workflowId);
    expect(outcome.status).toBe('handed-off');
    expect(outcome.enriched?.event).toMatchObject({
      sourceId: 'erp',
      eventType: 'PurchasePartiallyDelivered',
      entity: 'RP-101',
      warehouse: 'GreenWarehouse',
    });
    expect(outcome.enriched?.followUp).toEqual({
      url: `${api.url}/purchases/RP-101`,
      status: 200,
      data: { orderNumber: 'RP-101', rows: 3 },
      fetchedAt: expect.any(String),
    });
    expect(api.requestsTo('/purchases/RP-101')[0]?.headers.authorization).toBe('Bearer api-token');

    const description = await h.client.workflow.getHandle(workflowId).describe();
    expect(description.typedSearchAttributes.get(SA.entity)).toBe('RP-101');
    expect(description.typedSearchAttributes.get(SA.warehouse)).toBe('GreenWarehouse');
    expect(description.typedSearchAttributes.get(SA.eventType)).toBe('PurchasePartiallyDelivered');
    expect(description.typedSearchAttributes.get(SA.status)).toBe('handed-off');
  });

  test('the same delivery twice (a source retry) starts one workflow', async () => {
    const body = { ...productCreated, Attempt: 1 };
    const first = await postExtend(body);
    const retry = await postExtend({ ...body, Attempt: 2 });
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(first.json().events[0].duplicate).toBe(false);
    expect(retry.json().events[0].duplicate).toBe(true);
    const workflowId = inboundWorkflowId('erp', '90c6340b-1f5c-49e0-9cee-45df5dd145c2-0');
    // Without a follow-up template for ProductCreated the event is enriched with nothing to fetch.
    expect((await result(workflowId)).status).toBe('handed-off');
    const runs = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });

  test('a body with several notifications starts one workflow per notification', async () => {
    const body = extendBody([
      { Action: 'OrderCreated', Details: { OrderNumber: 'M-1', Warehouse: 'ADR-1' } },
      { Action: 'OrderCreated', Details: { OrderNumber: 'M-2', Warehouse: 'ADR-1' } },
      { Action: 'CustomerCreated', Details: { CustomerNumber: 'C-9' } },
    ]);
    api
      .on('/orders/M-1', () => ({ status: 200, body: { n: 1 } }))
      .on('/orders/M-2', () => ({ status: 200, body: { n: 2 } }));
    const res = await postExtend(body);
    expect(res.statusCode).toBe(202);
    const ids = res.json().events.map((e: { workflowId: string }) => e.workflowId);
    expect(ids).toEqual([0, 1, 2].map((i) => inboundWorkflowId('erp', `${body.Properties.NotificationId}-${i}`)));
    const outcomes = await Promise.all(ids.map(result));
    expect(outcomes.map((o) => o.enriched?.followUp?.data ?? null)).toEqual([{ n: 1 }, { n: 2 }, null]);
  });

  test('an event for a warehouse outside the filter ends as filtered, without a fetch', async () => {
    const body = extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'F-1', Warehouse: 'YX' } }]);
    const res = await postExtend(body);
    expect(res.statusCode).toBe(202);
    const workflowId = res.json().events[0].workflowId;
    expect(await result(workflowId)).toEqual({
      status: 'filtered',
      reason: 'warehouse YX is not in [GreenWarehouse, ADR-1]',
    });
    expect(api.requestsTo('/orders/F-1')).toHaveLength(0);
    expect((await h.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(SA.status)).toBe(
      'filtered',
    );
  });

  test('follow-up 404 is a clear, non-retried outcome', async () => {
    api.on('/orders/GONE-1', () => ({ status: 404, body: { error: 'no such order' } }));
    const res = await postExtend(
      extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'GONE-1', Warehouse: 'ADR-1' } }]),
    );
    const outcome = await result(res.json().events[0].workflowId);
    expect(outcome.status).toBe('follow-up-not-found');
    expect(outcome.reason).toMatch(/answered 404/);
    expect(api.requestsTo('/orders/GONE-1')).toHaveLength(1);
  });

  test('follow-up 500 then 200 is retried and succeeds', async () => {
    let calls = 0;
    api.on('/orders/FLAKY-1', () =>
      ++calls === 1 ? { status: 500, body: 'boom' } : { status: 200, body: { ok: true } },
    );
    const res = await postExtend(
      extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'FLAKY-1', Warehouse: 'ADR-1' } }]),
    );
    const outcome = await result(res.json().events[0].workflowId);
    expect(outcome.status).toBe('handed-off');
    expect(outcome.enriched?.followUp?.data).toEqual({ ok: true });
    expect(calls).toBe(2);
  });

  test('an unknown action is accepted and recorded, not dropped', async () => {
    const res = await postExtend(extendBody([{ Action: 'InventoryCounted', Details: { Warehouse: 'ADR-1' } }]));
    expect(res.statusCode).toBe(202);
    const outcome = await result(res.json().events[0].workflowId);
    expect(outcome.status).toBe('handed-off');
    expect(outcome.enriched?.event).toMatchObject({ eventType: 'InventoryCounted', recognised: false });
  });

  test.each([
    ['a wrong secret', (text: string) => ({ 'ms-signature': sign.ms('wrong', text) }), /does not match/],
    ['no signature', () => ({}), /missing ms-signature/],
    ['a signature over another body', () => ({ 'ms-signature': sign.ms(EXTEND_SECRET, '{}') }), /does not match/],
  ])('%s: 401 and no workflow', async (_name, headers, message) => {
    const body = extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'X', Warehouse: 'ADR-1' } }]);
    const text = JSON.stringify(body);
    const res = await post(h.app, '/webhooks/erp', text, headers(text));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'unauthorized', message: expect.stringMatching(message) });
    await expectNoWorkflow(inboundWorkflowId('erp', `${body.Properties.NotificationId}-0`));
  });
});

describe('Ongoing WMS', () => {
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

  test('Basic auth, goods-owner filter passes, follow-up on the payload path', async () => {
    api.on('/ongoing/api/v1/orders/2280031', () => ({ status: 200, body: { orderInfo: { orderNumber: 'SO-10442' } } }));
    const res = await post(h.app, '/webhooks/wms', JSON.stringify(ongoingOrderPicked), {
      authorization: basic('ongoing', 'wms-pass'),
    });
    expect(res.statusCode).toBe(202);
    const outcome = await result(inboundWorkflowId('wms', 'webhookOrdersId/991/48213377'));
    expect(outcome.status).toBe('handed-off');
    expect(outcome.enriched?.followUp?.data).toEqual({ orderInfo: { orderNumber: 'SO-10442' } });
    expect(outcome.enriched?.event.goodsOwnerId).toBe(162);
  });

  test('another goods owner is filtered', async () => {
    const body = { ...ongoingOrderPicked, webhookEventId: 48213378, goodsOwnerId: 999 };
    const res = await post(h.app, '/webhooks/wms', JSON.stringify(body), {
      authorization: basic('ongoing', 'wms-pass'),
    });
    expect((await result(res.json().events[0].workflowId)).status).toBe('filtered');
  });

  test.each([
    ['wrong password', { authorization: basic('ongoing', 'nope') }],
    ['no Authorization', {}],
  ])('Basic auth with %s: 401, no workflow', async (_name, headers) => {
    const body = { ...ongoingOrderPicked, webhookEventId: 7000001 };
    const res = await post(h.app, '/webhooks/wms', JSON.stringify(body), headers);
    expect(res.statusCode).toBe(401);
    await expectNoWorkflow(inboundWorkflowId('wms', 'webhookOrdersId/991/7000001'));
  });

  test('X-Auth-Token: right token accepted, wrong token 401', async () => {
    const ok = await post(
      h.app,
      '/webhooks/wms-token',
      JSON.stringify({ ...ongoingOrderPicked, webhookEventId: 7100001 }),
      { 'x-auth-token': 'tok-123' },
    );
    expect(ok.statusCode).toBe(202);
    expect((await result(inboundWorkflowId('wms-token', 'webhookOrdersId/991/7100001'))).status).toBe('handed-off');
    const bad = await post(
      h.app,
      '/webhooks/wms-token',
      JSON.stringify({ ...ongoingOrderPicked, webhookEventId: 7100002 }),
      { 'x-auth-token': 'tok-124' },
    );
    expect(bad.statusCode).toBe(401);
    await expectNoWorkflow(inboundWorkflowId('wms-token', 'webhookOrdersId/991/7100002'));
  });
});

describe('Automation API', () => {
  test('X-Signature and key: the full order is fetched by orderId', async () => {
    const text = JSON.stringify(automationOrderAccepted);
    api.on(`/automation/orders/${automationOrderAccepted.orderId}`, () => ({
      status: 200,
      body: { id: automationOrderAccepted.orderId, state: 'ACCEPTED' },
    }));
    const res = await post(h.app, '/webhooks/esign?key=install-7', text, { 'x-signature': sign.x(ESIGN_SECRET, text) });
    expect(res.statusCode).toBe(202);
    const outcome = await result(inboundWorkflowId('esign', `${automationOrderAccepted.orderId}/OrderAccepted`));
    expect(outcome.enriched?.followUp?.data).toEqual({ id: automationOrderAccepted.orderId, state: 'ACCEPTED' });
  });

  test('base64 signature with sha256= prefix is accepted', async () => {
    const body = { orderId: randomUUID(), eventType: 'OrderSigned' };
    const text = JSON.stringify(body);
    api.on(`/automation/orders/${body.orderId}`, () => ({ status: 200, body: {} }));
    const signature = `sha256=${Buffer.from(sign.x(ESIGN_SECRET, text), 'hex').toString('base64')}`;
    const res = await post(h.app, '/webhooks/esign?key=install-7', text, { 'x-signature': signature });
    expect(res.statusCode).toBe(202);
  });

  test.each([
    ['a wrong key', '?key=install-8', true, /key query parameter does not match/],
    ['no key', '', true, /missing key/],
    ['no signature', '?key=install-7', false, /missing X-Signature/],
  ])('%s: 401 and no workflow', async (_name, query, signed, message) => {
    const body = { orderId: randomUUID(), eventType: 'OrderCreated' };
    const text = JSON.stringify(body);
    const res = await post(
      h.app,
      `/webhooks/esign${query}`,
      text,
      signed ? { 'x-signature': sign.x(ESIGN_SECRET, text) } : {},
    );
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(message);
    await expectNoWorkflow(inboundWorkflowId('esign', `${body.orderId}/OrderCreated`));
  });
});

describe('bad input never starts anything and never gets a 5xx', () => {
  test('unknown source: 404', async () => {
    const res = await post(h.app, '/webhooks/nope', '{}');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'unknown source "nope"' });
  });

  test('wrong content type: 415', async () => {
    const text = JSON.stringify(productCreated);
    const res = await post(h.app, '/webhooks/erp', text, {
      'content-type': 'text/plain',
      'ms-signature': sign.ms(EXTEND_SECRET, text),
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toBe('unsupported_media_type');
  });

  test('body over the limit: 413', async () => {
    const text = JSON.stringify({
      Id: 'x',
      Notifications: [{ Action: 'OrderCreated', Details: { OrderNumber: 'x'.repeat(h.config.server.bodyLimitBytes) } }],
    });
    const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms(EXTEND_SECRET, text) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe('payload_too_large');
  });

  test('signed but malformed JSON: 400', async () => {
    const text = "{'test':'test2'}"; // the seed's signing sample: signed correctly, but not JSON
    const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms(EXTEND_SECRET, text) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_payload', message: expect.stringMatching(/not valid JSON/) });
  });

  test('signed JSON that violates the schema: 400 naming the field, no workflow', async () => {
    const body = extendBody([{ Action: 'OrderCreated', Details: { Warehouse: 'ADR-1' } }]);
    const res = await postExtend(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ path: 'OrderNumber', message: expect.any(String) }]);
    await expectNoWorkflow(inboundWorkflowId('erp', `${body.Properties.NotificationId}-0`));
  });

  test('empty body: 400', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/webhooks/erp',
      headers: { 'content-type': 'application/json', 'ms-signature': sign.ms(EXTEND_SECRET, '') },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_payload' });
  });
});

describe('health', () => {
  test('healthz and readyz', async () => {
    expect((await h.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await h.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', temporal: 'reachable' });
  });
});
