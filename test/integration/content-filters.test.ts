import type { InboundWorkflowResult } from '../../src/shared/inbound';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription, json, publish } from '../support/outbound';
import { AUTOMATION_EVENTS, EXTEND_NOTIFICATIONS, ONGOING_EXAMPLES, extendEnvelope } from '../support/published';
import { post, sign } from '../support/webhooks';
import { consoleSession, csrfOf, FORM } from '../support/console-session';
import { ADMIN_TOKEN } from '../support/harness';
import orderPicked from '../fixtures/ongoing-order-picked.json';

/**
 * Content filters (`filterExpression`, JSONata) over the published payloads of every sender, through the
 * front door, the inbound workflow's fan-out and real deliveries on a dev server: which subscription an
 * event was planned for is read from each inbound workflow's result; what matched also reaches the receiver.
 */
const EXTEND_SECRET = 'cf-extend-secret';
const ESIGN_SECRET = 'cf-esign-secret';
const basic = `Basic ${Buffer.from('ongoing:wms-pass').toString('base64')}`;

let api: FakeHttpPeer;
let receiver: FakeHttpPeer;
let h: Harness;
const subs: Record<string, string> = {};

beforeAll(async () => {
  api = await new FakeHttpPeer().start();
  api.on(`/automation/orders/${AUTOMATION_EVENTS[0]!.orderId}`, () => ({ status: 200, body: { state: 'fetched' } }));
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
sources:
  - id: cf-wms
    kind: ongoing-wms
    auth: { type: basic, username: ongoing, password: wms-pass }
  - id: cf-erp
    kind: extend-commerce
    secret: ${EXTEND_SECRET}
  - id: cf-esign
    kind: automation-api
    secret: ${ESIGN_SECRET}
    key: cf-key
    followUp: { urls: { "*": "${api.url}/automation/orders/{orderId}" } }
`),
  );
  const subscription = async (name: string, triggers: string[], filterExpression: string) => {
    subs[name] = await createSubscription(h, {
      id: `cf-${name}`,
      url: `${receiver.url}/${name}`,
      triggers,
      retryPolicy: 'none',
      filterExpression,
    });
  };
  await Promise.all([
    subscription('ongoing-path', ['ongoing-wms.*'], '$exists(data.path)'),
    subscription('ongoing-status', ['ongoing-wms.*'], 'data.orderStatus.number >= 400'),
    subscription(
      'extend-orders',
      ['extend-commerce.*'],
      "$exists(data.Details.OrderNumber) and data.Action != 'OrderCancelled'",
    ),
    subscription(
      'automation',
      ['automation-api.*'],
      "data.eventType in ['OrderSigned', 'OrderRejected'] and followUp.state = 'fetched'",
    ),
    subscription('shop-total', ['shop.*'], 'data.total > 1000'),
    subscription('shop-broken', ['shop.*'], 'data.total + data.customer'),
  ]);
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await api?.stop();
});

const plannedFor = async (workflowId: string) =>
  ((await h.client.workflow.getHandle(workflowId).result()) as InboundWorkflowResult).deliveries?.map(
    (d) => d.subscriptionId,
  ) ?? [];

const idsOf = (res: { json(): { events: Array<{ workflowId: string }> } }) =>
  res.json().events.map((e) => e.workflowId);

test('filters over every published payload family: Ongoing (12 families and OrderPicked), Extend (21 actions), Automation (7 events)', async () => {
  const picked200 = { ...orderPicked, webhookEventId: 48213378, webhookOrdersId: 992, orderStatus: { number: 200 } };
  const ongoingBodies = [...ONGOING_EXAMPLES.map((e) => e.body), orderPicked, picked200];
  const ongoing = await Promise.all(
    ongoingBodies.map((body) => post(h.app, '/webhooks/cf-wms', JSON.stringify(body), { authorization: basic })),
  );
  const extendText = JSON.stringify(extendEnvelope());
  const extend = await post(h.app, '/webhooks/cf-erp', extendText, {
    'ms-signature': sign.ms(EXTEND_SECRET, extendText),
  });
  const automation = await Promise.all(
    AUTOMATION_EVENTS.map((body) => {
      const text = JSON.stringify(body);
      return post(h.app, '/webhooks/cf-esign?key=cf-key', text, { 'x-signature': sign.x(ESIGN_SECRET, text) });
    }),
  );
  for (const res of [...ongoing, extend, ...automation]) expect(res.statusCode).toBe(202);

  // Ongoing: `path` only in some families; a status of at least 400 only in the picked order.
  const ongoingPlanned = await Promise.all(ongoing.map((res) => plannedFor(idsOf(res)[0]!)));
  ongoingBodies.forEach((body, i) => {
    const status = (body as { orderStatus?: { number?: number } }).orderStatus?.number;
    expect({ i, planned: ongoingPlanned[i]!.sort() }).toEqual({
      i,
      planned: [
        ...(typeof body.path === 'string' ? [subs['ongoing-path']] : []),
        ...(typeof status === 'number' && status >= 400 ? [subs['ongoing-status']] : []),
      ].sort(),
    });
  });
  expect(ongoingPlanned.filter((p) => p.includes(subs['ongoing-path']!))).toHaveLength(6); // 4 families + OrderPicked twice
  expect(ongoingPlanned.filter((p) => p.includes(subs['ongoing-status']!))).toHaveLength(1);

  // Extend: notifications naming an order, except cancellations.
  const extendPlanned = await Promise.all(idsOf(extend).map(plannedFor));
  EXTEND_NOTIFICATIONS.forEach(({ Action, Details }, i) => {
    const expected = 'OrderNumber' in Details && Action !== 'OrderCancelled';
    expect({ Action, planned: extendPlanned[i] }).toEqual({ Action, planned: expected ? [subs['extend-orders']] : [] });
  });
  expect(extendPlanned.flat()).toHaveLength(8);

  // Automation: by event type and the fetched follow-up.
  const automationPlanned = await Promise.all(automation.map((res) => plannedFor(idsOf(res)[0]!)));
  AUTOMATION_EVENTS.forEach(({ eventType }, i) => {
    const expected = ['OrderSigned', 'OrderRejected'].includes(eventType);
    expect({ eventType, planned: automationPlanned[i] }).toEqual({
      eventType,
      planned: expected ? [subs.automation] : [],
    });
  });

  // What matched reached the receivers, and nothing else.
  await eventually(
    async () =>
      receiver.requestsTo('/ongoing-path').length === 6 &&
      receiver.requestsTo('/ongoing-status').length === 1 &&
      receiver.requestsTo('/extend-orders').length === 8 &&
      receiver.requestsTo('/automation').length === 2,
    'the matching deliveries',
    40_000,
  );
  expect(json(receiver.requestsTo('/ongoing-status')[0]!).Notifications?.[0]?.Details.orderStatus).toEqual({
    number: 400,
  });
});

test('published events: orders above 1,000 only; a filter that fails on an event records a filtered-error delivery with the reason', async () => {
  const big = await publish(h, {
    type: 'shop.OrderPaid',
    data: { total: 1500, customer: 'C-1' },
    idempotencyKey: 'cf-big',
  });
  const small = await publish(h, {
    type: 'shop.OrderPaid',
    data: { total: 500, customer: 'C-2' },
    idempotencyKey: 'cf-small',
  });
  expect((await plannedFor(big.workflowId)).sort()).toEqual([subs['shop-broken'], subs['shop-total']].sort());
  // shop-broken fails on every event (a number plus a string): still planned, as a record of the failure.
  expect(await plannedFor(small.workflowId)).toEqual([subs['shop-broken']]);

  const failedId = deliveryWorkflowId(small.eventId, subs['shop-broken']!);
  const outcome = await h.client.workflow.getHandle(failedId).result();
  expect(outcome).toMatchObject({
    status: 'filtered-error',
    reason: expect.stringMatching(/^T200[12] .* at position \d+/),
  });

  // The API shows it with its reason, the subscription's delivery list with its status; the receiver got nothing.
  const status = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(failedId)}`);
  expect(status.statusCode).toBe(200);
  expect(status.json()).toMatchObject({
    status: 'filtered-error',
    workflowStatus: 'COMPLETED',
    lastError: expect.stringMatching(/^content filter failed: T200[12] .*position/),
  });
  await eventually(
    async () =>
      (await h.client.workflow.count(`WorkflowId = '${failedId}' AND ${SA.status.name} = 'filtered-error'`)).count ===
      1,
    'the filtered-error delivery in visibility',
  );
  const attempts = (await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(failedId)}/attempts`)).json();
  expect(attempts).toMatchObject({ attempts: [], filterError: expect.stringMatching(/^T200[12] /) });

  // The console: the delivery list shows the status, the delivery's page the reason.
  const session = consoleSession(() => h.app);
  const login = await session.get('/console/login');
  session.keep(
    (
      await h.app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { ...FORM, cookie: session.cookie() },
        payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrfOf(login.body) }).toString(),
      })
    ).headers['set-cookie'],
  );
  await eventually(
    async () =>
      (await session.get(`/console/subscriptions/${subs['shop-broken']}/deliveries`)).body.includes('filtered-error'),
    'filtered-error in the console list',
  );
  const detail = await session.get(`/console/deliveries/${encodeURIComponent(failedId)}`);
  expect(detail.body).toMatch(
    /id="delivery-filter-error">The content filter failed on this event, so nothing was sent: T200[12] /,
  );

  await eventually(async () => receiver.requestsTo('/shop-total').length === 1, 'the big order delivered');
  expect(json(receiver.requestsTo('/shop-total')[0]!).Notifications[0].Details).toEqual({
    total: 1500,
    customer: 'C-1',
  });
  expect(receiver.requestsTo('/shop-broken')).toHaveLength(0);
});

test('an invalid expression is a 400 naming its position; a valid one can be changed and removed', async () => {
  const res = await adminApi(h, 'POST', '/api/subscriptions', {
    id: 'cf-invalid',
    name: 'invalid',
    contactEmail: 'tech@example.com',
    url: `${receiver.url}/invalid`,
    triggers: ['shop.*'],
    filterExpression: 'data.total >',
  });
  expect(res.statusCode).toBe(400);
  expect(res.json().message).toMatch(/filterExpression: invalid JSONata: S0207 .* at position 12/);

  const patch = await adminApi(h, 'PATCH', `/api/subscriptions/${subs['shop-total']}`, {
    filterExpression: 'data.(total',
  });
  expect(patch.statusCode).toBe(400);
  expect(patch.json().message).toMatch(/position \d+/);
  const changed = await adminApi(h, 'PATCH', `/api/subscriptions/${subs['shop-total']}`, {
    filterExpression: 'data.total > 2000',
  });
  expect(changed.json().filterExpression).toBe('data.total > 2000');
  const removed = await adminApi(h, 'PATCH', `/api/subscriptions/${subs['shop-total']}`, { filterExpression: null });
  expect(removed.statusCode).toBe(200);
  expect(removed.json().filterExpression).toBeUndefined();
});
