import { FakeHttpPeer } from '../support/fake-http';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * The event log (GET /api/events, /console/events) over EVENTS inbound events from two Extend sources
 * (one with a warehouse filter and a follow-up) and the publishing API, with deliveries that succeed
 * and deliveries that fail: every filter finds what was sent, pages walk the whole log once, bad input
 * is a 400, and an event opens with its decoded notification, follow-up data and deliveries.
 * 300 events by default (about 20-30 s here); EVENT_LOG_TEST_EVENTS=1000 passes too, in about 90 s on a
 * busy 2-core machine.
 */
const EVENTS = Number(process.env.EVENT_LOG_TEST_EVENTS ?? 300);
const SECRET = 'event-log-extend-secret';
const tag = Date.now().toString(36);

type Sent = {
  workflowId: string;
  source: string;
  type: string;
  entity: string;
  status: 'handed-off' | 'filtered';
  /** Which subscription it is delivered to, and how that ends. */
  delivery?: 'delivered' | 'failed';
  half: 1 | 2;
};

let h: Harness;
let api: FakeHttpPeer;
let receiver: FakeHttpPeer;
let okSub: string;
let failingSub: string;
const sent: Sent[] = [];
let testStart: string;
let midpoint: string;

/** The i-th event: source, type and entity by i, so each filter has a known count. */
function planOf(i: number) {
  const slot = i % 10;
  if (slot < 4) {
    const action = (['OrderPicked', 'ProductChanged', 'PurchaseCreated'] as const)[i % 3]!;
    const entity = action === 'ProductChanged' ? `P-${tag}-${i}` : `SO-${tag}-${i}`;
    const warehouse = i % 4 === 0 ? 'X9' : 'W1';
    const details =
      action === 'ProductChanged' ? { ProductNumber: entity } : { OrderNumber: entity, Warehouse: warehouse };
    const filtered = action !== 'ProductChanged' && warehouse === 'X9';
    return { kind: 'extend', source: 'el-erp', action, details, entity, filtered } as const;
  }
  if (slot < 7) {
    const action = i % 2 === 0 ? 'OrderReserved' : 'CustomerCreated';
    const entity = action === 'OrderReserved' ? `SO-${tag}-${i}` : `C-${tag}-${i}`;
    const details = action === 'OrderReserved' ? { OrderNumber: entity } : { CustomerNumber: entity };
    return { kind: 'extend', source: 'el-shop', action, details, entity, filtered: false } as const;
  }
  return { kind: 'api', type: i % 2 === 0 ? 'shop.OrderPaid' : 'shop.Refund', entity: `SO-${tag}-${i}` } as const;
}

async function sendRange(from: number, to: number, half: 1 | 2) {
  const extend = new Map<string, Array<{ i: number; Action: string; Details: Record<string, unknown> }>>();
  const published: Array<Promise<void>> = [];
  for (let i = from; i < to; i++) {
    const plan = planOf(i);
    if (plan.kind === 'api') {
      published.push(
        adminApi(h, 'POST', '/api/events', { type: plan.type, data: { n: i }, entity: plan.entity }).then((res) => {
          expect(res.statusCode).toBe(202);
          sent.push({
            workflowId: res.json().workflowId,
            source: 'api',
            type: plan.type,
            entity: plan.entity,
            status: 'handed-off',
            delivery: 'delivered',
            half,
          });
        }),
      );
      continue;
    }
    const list = extend.get(plan.source) ?? [];
    list.push({ i, Action: plan.action, Details: plan.details });
    extend.set(plan.source, list);
  }
  for (const [source, notifications] of extend) {
    for (let at = 0; at < notifications.length; at += 50) {
      const chunk = notifications.slice(at, at + 50);
      const text = JSON.stringify(extendBody(chunk.map(({ Action, Details }) => ({ Action, Details }))));
      const res = await post(h.app, `/webhooks/${source}`, text, { 'ms-signature': sign.ms(SECRET, text) });
      expect(res.statusCode).toBe(202);
      const events = res.json().events as Array<{ workflowId: string }>;
      chunk.forEach(({ i, Action }, k) => {
        const plan = planOf(i) as Extract<ReturnType<typeof planOf>, { kind: 'extend' }>;
        sent.push({
          workflowId: events[k]!.workflowId,
          source,
          type: `extend-commerce.${Action}`,
          entity: plan.entity,
          status: plan.filtered ? 'filtered' : 'handed-off',
          delivery: Action === 'OrderReserved' ? 'failed' : undefined,
          half,
        });
      });
    }
  }
  await Promise.all(published);
}

const count = (query: string) => h.client.workflow.count(query).then((c) => c.count);

beforeAll(async () => {
  api = await new FakeHttpPeer().start();
  api.on(`/orders/FU-${tag}`, () => ({ status: 200, body: { order: `FU-${tag}`, lines: [{ sku: 'A-1', qty: 2 }] } }));
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  receiver.on('/down', () => ({ status: 503 }));
  h = await startHarness(
    testConfig(`
sources:
  - id: el-erp
    kind: extend-commerce
    secret: ${SECRET}
    filter: { warehouses: [W1] }
    followUp: { urls: { OrderCreated: "${api.url}/orders/{OrderNumber}" } }
  - id: el-shop
    kind: extend-commerce
    secret: ${SECRET}
`),
  );
  okSub = await createSubscription(h, { url: `${receiver.url}/ok`, secret: 's', triggers: ['shop.*'] });
  failingSub = await createSubscription(h, {
    url: `${receiver.url}/down`,
    secret: 's',
    triggers: ['extend-commerce.OrderReserved'],
    retryPolicy: 'none',
    breaker: { enabled: false }, // each of its deliveries is to end failed, none held
  });
  testStart = new Date().toISOString();
  const started = Date.now();
  await sendRange(0, EVENTS / 2, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  midpoint = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await sendRange(EVENTS / 2, EVENTS, 2);
  // Everything closed and in visibility: the inbound workflows and both subscriptions' deliveries.
  // This test's own events: the failing subscription also makes hookflow publish operational events
  // (source `hookflow`, docs/operations.md), which the log lists too (checked below).
  const mine = `StartTime >= '${testStart}' AND HookflowSource IN ('el-erp', 'el-shop', 'api')`;
  const deliveries = sent.filter((s) => s.delivery).length;
  await eventually(
    async () =>
      (await count(`WorkflowType = 'inboundWorkflow' AND ${mine} AND ExecutionStatus != 'Running'`)) === EVENTS &&
      (await count(
        `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription IN ('${okSub}', '${failingSub}') AND ExecutionStatus != 'Running'`,
      )) === deliveries,
    `${EVENTS} events and ${deliveries} deliveries to settle`,
    240_000,
  );
  process.stderr.write(`event log test: ${EVENTS} events settled in ${Date.now() - started} ms\n`);
}, 300_000);

afterAll(async () => {
  await h?.stop();
  await api?.stop();
  await receiver?.stop();
});

type Row = {
  eventId: string;
  workflowId: string | null;
  source: string | null;
  type: string | null;
  entity: string | null;
  status: string | null;
  deliveries: Array<{ subscriptionId: string; status: string; attempts: number | null; lastHttpStatus: number | null }>;
};

async function list(params: Record<string, string>) {
  const res = await adminApi(h, 'GET', `/api/events?${new URLSearchParams(params)}`);
  return res;
}

/** Every page of a search: its rows in order, and how many pages it took. */
async function walk(params: Record<string, string>) {
  const rows: Row[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await list({ ...params, ...(cursor ? { cursor } : {}) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { events: Row[]; nextCursor: string | null };
    expect(body.events.length).toBeLessThanOrEqual(Number(params.pageSize ?? 50));
    rows.push(...body.events);
    cursor = body.nextCursor;
    pages++;
  } while (cursor);
  return { rows, pages };
}

const ids = (rows: Row[]) => rows.map((r) => r.workflowId).sort();
const expected = (pick: (s: Sent) => boolean) =>
  sent
    .filter(pick)
    .map((s) => s.workflowId)
    .sort();

test('an order is found by its number, with its deliveries', async () => {
  const paid = sent.find((s) => s.source === 'api')!;
  const res = await list({ entity: paid.entity });
  expect(res.statusCode).toBe(200);
  const { events } = res.json() as { events: Row[] };
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    workflowId: paid.workflowId,
    source: 'api',
    type: paid.type,
    entity: paid.entity,
    status: 'handed-off',
    deliveries: [{ subscriptionId: okSub, status: 'delivered', attempts: 1, lastHttpStatus: 200 }],
  });
});

test('pages of 50 walk the whole log once, newest first, without duplicates or gaps', async () => {
  await eventually(
    async () =>
      (await count(
        `WorkflowType = 'inboundWorkflow' AND StartTime >= '${testStart}' AND HookflowEventType = 'hookflow.subscription.failing' AND ExecutionStatus != 'Running'`,
      )) > 0,
    'the operational event about the failing subscription',
  );
  const { rows: all, pages } = await walk({ from: testStart, pageSize: '50' });
  expect(pages).toBeGreaterThanOrEqual(Math.ceil(EVENTS / 50));
  expect(new Set(all.map((r) => r.workflowId)).size).toBe(all.length);
  // Beside what the test sent: the operational events about the failing subscription.
  const operational = all.filter((r) => r.source === 'hookflow');
  expect(operational.map((r) => r.type)).toContain('hookflow.subscription.failing');
  expect(ids(all.filter((r) => r.source !== 'hookflow'))).toEqual(expected(() => true));
});

test('each filter narrows to what was sent', async () => {
  const from = testStart;
  const cases: Array<[Record<string, string>, (s: Sent) => boolean]> = [
    [{ source: 'el-erp' }, (s) => s.source === 'el-erp'],
    [{ source: 'api', from }, (s) => s.source === 'api'],
    [{ type: 'extend-commerce.OrderPicked', from }, (s) => s.type === 'extend-commerce.OrderPicked'],
    [{ type: 'extend-commerce.*', from }, (s) => s.type.startsWith('extend-commerce.')],
    [{ type: 'shop.Refund', from }, (s) => s.type === 'shop.Refund'],
    [{ type: 'shop.*', from }, (s) => s.type.startsWith('shop.')],
    [{ status: 'filtered', from }, (s) => s.status === 'filtered'],
    [{ status: 'handed-off', source: 'el-erp' }, (s) => s.source === 'el-erp' && s.status === 'handed-off'],
    [
      { type: 'extend-commerce.PurchaseCreated', status: 'filtered', from },
      (s) => s.type.endsWith('.PurchaseCreated') && s.status === 'filtered',
    ],
    [{ subscription: okSub }, (s) => s.delivery === 'delivered'],
    [{ subscription: failingSub, status: 'failed' }, (s) => s.delivery === 'failed'],
    [{ status: 'failed', source: 'el-shop', from }, (s) => s.delivery === 'failed'],
    [{ subscription: okSub, status: 'failed' }, () => false],
    [{ subscription: okSub, status: 'filtered' }, () => false],
    [{ source: 'el-shop', to: midpoint, from }, (s) => s.source === 'el-shop' && s.half === 1],
    [{ source: 'el-shop', from: midpoint }, (s) => s.source === 'el-shop' && s.half === 2],
  ];
  for (const [params, pick] of cases) {
    const want = expected(pick);
    const { rows } = await walk({ ...params, pageSize: '200' });
    expect({ params, count: rows.length }).toEqual({ params, count: want.length });
    expect(ids(rows)).toEqual(want);
  }
  // Every failed delivery row carries the receiver's answer.
  const { rows } = await walk({ subscription: failingSub, pageSize: '200' });
  expect(rows[0]!.deliveries).toEqual([
    expect.objectContaining({ subscriptionId: failingSub, status: 'failed', attempts: 1, lastHttpStatus: 503 }),
  ]);
});

test('a bad cursor, a bad page size and values that could change the query are 400s naming the field', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ cursor: 'not a cursor!' }, 'cursor'],
    [{ cursor: Buffer.from('{"CloseTime":"nope"}').toString('base64url') }, 'cursor'],
    [{ pageSize: '500' }, 'pageSize'],
    [{ entity: "' OR 1=1" }, 'entity'],
    [{ type: "x' OR WorkflowType != '" }, 'type'],
    [{ source: 'el-erp" OR "1"="1' }, 'source'],
    [{ subscription: 'a\\' }, 'subscription'],
    [{ status: 'anything' }, 'status'],
    [{ from: 'yesterday' }, 'from'],
    [{ type: 'shop.*.x' }, 'type'],
  ];
  for (const [params, field] of cases) {
    const res = await list(params);
    expect({ params, status: res.statusCode }).toEqual({ params, status: 400 });
    expect(res.json().message).toMatch(new RegExp(`^${field}: `));
  }
  const anonymous = await h.app.inject({ url: '/api/events' });
  expect(anonymous.statusCode).toBe(401);
});

test('the OpenAPI document has both routes, behind the bearer token, beside POST /api/events', async () => {
  const doc = (await h.app.inject('/docs/json')).json();
  expect(doc.paths['/api/events'].get.security).toEqual([{ bearerAuth: [] }]);
  expect(doc.paths['/api/events'].post).toBeDefined();
  expect(doc.paths['/api/events'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
    expect.arrayContaining(['entity', 'source', 'type', 'status', 'subscription', 'from', 'to', 'pageSize', 'cursor']),
  );
  expect(doc.paths['/api/events/{workflowId}'].get.security).toEqual([{ bearerAuth: [] }]);
});

describe('one event', () => {
  let workflowId: string;
  beforeAll(async () => {
    const body = extendBody([
      {
        Action: 'OrderCreated',
        Details: { OrderNumber: `FU-${tag}`, Warehouse: 'W1', Note: '<script>alert("x")</script>' },
      },
    ]);
    const text = JSON.stringify(body);
    const res = await post(h.app, '/webhooks/el-erp', text, { 'ms-signature': sign.ms(SECRET, text) });
    workflowId = res.json().events[0].workflowId;
    await h.client.workflow.getHandle(workflowId).result();
  });

  test('GET /api/events/:workflowId: the decoded notification, its follow-up data and deliveries', async () => {
    const res = await adminApi(h, 'GET', `/api/events/${encodeURIComponent(workflowId)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      workflowId,
      source: 'el-erp',
      type: 'extend-commerce.OrderCreated',
      entity: `FU-${tag}`,
      warehouse: 'W1',
      status: 'handed-off',
      notification: { Action: 'OrderCreated', Details: { OrderNumber: `FU-${tag}` } },
      followUp: { order: `FU-${tag}`, lines: [{ sku: 'A-1', qty: 2 }] },
      followUpUrl: `${api.url}/orders/FU-${tag}`,
      deliveries: [],
    });

    const paid = sent.find((s) => s.source === 'api')!;
    const withDelivery = await adminApi(h, 'GET', `/api/events/${encodeURIComponent(paid.workflowId)}`);
    expect(withDelivery.json()).toMatchObject({
      notification: { n: expect.any(Number) },
      deliveries: [
        {
          subscriptionId: okSub,
          status: 'delivered',
          attempts: 1,
          lastHttpStatus: 200,
        },
      ],
    });
    // Each delivery links to its attempt log, in the API and in the console.
    const [delivery] = withDelivery.json().deliveries as Array<{
      workflowId: string;
      apiUrl: string;
      consoleUrl: string;
    }>;
    expect(delivery!.apiUrl).toBe(`/api/deliveries/${encodeURIComponent(delivery!.workflowId)}/attempts`);
    expect(delivery!.consoleUrl).toBe(`/console/deliveries/${encodeURIComponent(delivery!.workflowId)}`);
    const attempts = await adminApi(h, 'GET', delivery!.apiUrl);
    expect(attempts.statusCode).toBe(200);
    expect(attempts.json().attempts).toEqual([expect.objectContaining({ outcome: 'delivered', httpStatus: 200 })]);
    expect((await adminApi(h, 'GET', `/api/events/${encodeURIComponent('inbound/el-erp/none')}`)).statusCode).toBe(404);
    expect((await adminApi(h, 'GET', `/api/events/${encodeURIComponent('delivery/x')}`)).statusCode).toBe(400);
  });

  test('the console finds it by order number and shows the notification escaped', async () => {
    const cookie = await signIn();
    const search = await h.app.inject({ url: `/console/events?entity=FU-${tag}`, headers: { cookie } });
    expect(search.statusCode).toBe(200);
    expect(search.body).toContain(`href="/console/events/${encodeURIComponent(workflowId)}"`);
    expect(search.body).toContain('extend-commerce.OrderCreated');
    expect(search.body).toMatch(/<a href="\/console\/events">Events<\/a>/);

    const page = await h.app.inject({ url: `/console/events/${encodeURIComponent(workflowId)}`, headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toContain('&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;');
    expect(page.body).toMatch(/<pre id="follow-up"><code>[^<]*&quot;sku&quot;: &quot;A-1&quot;/);

    // A delivery's link on the event page opens its attempt log.
    const paid = sent.find((s) => s.source === 'api')!;
    const withDelivery = await h.app.inject({
      url: `/console/events/${encodeURIComponent(paid.workflowId)}`,
      headers: { cookie },
    });
    const attemptsLink = /<a href="(\/console\/deliveries\/[^"]+)">Attempts<\/a>/.exec(withDelivery.body)?.[1];
    expect(attemptsLink).toBeDefined();
    expect((await h.app.inject({ url: attemptsLink!, headers: { cookie } })).statusCode).toBe(200);

    const bad = await h.app.inject({
      url: `/console/events?entity=${encodeURIComponent("' OR 1=1")}`,
      headers: { cookie },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/<p class="error" id="entity-error" role="alert">cannot contain quotes/);

    const firstPage = await h.app.inject({
      url: `/console/events?source=el-erp&from=${testStart}&pageSize=10`,
      headers: { cookie },
    });
    const next = /<a class="button" href="([^"]+)" rel="next"/.exec(firstPage.body)?.[1];
    expect(next).toBeDefined();
    const second = await h.app.inject({ url: next!.replace(/&amp;/g, '&'), headers: { cookie } });
    expect(second.statusCode).toBe(200);
    expect(second.body).toContain('First page');
  });
});

/** A console session for app.inject: the sign-in form's CSRF token and cookie, then the session cookie. */
async function signIn(): Promise<string> {
  const jar = new Map<string, string>();
  const keep = (setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const login = await h.app.inject({ url: '/console/login' });
  keep(login.headers['set-cookie']);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const res = await h.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrf }).toString(),
  });
  expect(res.statusCode).toBe(303);
  keep(res.headers['set-cookie']);
  return cookie();
}
