import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * The event log over a few thousand events (EVENTS, default 2,000): every filter finds exactly what was
 * sent and the cursor walks the whole log with no gap and no repeat. The fill is real and cheap: signed
 * Extend webhooks of 50 notifications through the front door, several in flight; most notifications are
 * for a warehouse the source filters out, so their inbound workflow ends in its first workflow task
 * (status `filtered`); one in twenty is handed off, and its OrderCreated events are delivered. About
 * 36 s with 2,000 events on the 2-core machine at load ~5 (fill 7 s, settled after 31 s).
 */
const EVENTS = Number(process.env.EVENT_LOG_SCALE_EVENTS ?? 2_000);
const PER_WEBHOOK = 50;
const IN_FLIGHT = 3;
const SECRET = 'event-log-scale-secret';
const tag = Date.now().toString(36);
const ACTIONS = ['OrderCreated', 'OrderPicked', 'PurchaseCreated'] as const;

type Sent = {
  workflowId: string;
  source: 'sc-erp' | 'sc-shop';
  type: string;
  entity: string;
  status: 'handed-off' | 'filtered';
  delivered: boolean;
  half: 1 | 2;
};

let h: Harness;
let receiver: FakeHttpPeer;
let okSub: string;
const sent: Sent[] = [];
let testStart: string;
let midpoint: string;
/** Webhooks the front door answered 503 and the test sent again. */
let retried = 0;

/** The i-th event: source by i mod 5, type by i mod 3 (independent), handed off when i mod 20 = 7. */
function planOf(i: number) {
  const source = i % 5 < 3 ? ('sc-erp' as const) : ('sc-shop' as const);
  const action = ACTIONS[i % 3]!;
  const handedOff = i % 20 === 7;
  return {
    source,
    action,
    entity: `SO-${tag}-${i}`,
    warehouse: handedOff ? 'W1' : 'X9',
    status: handedOff ? ('handed-off' as const) : ('filtered' as const),
    delivered: handedOff && action === 'OrderCreated',
  };
}

/** Events [from, to) as webhooks of PER_WEBHOOK notifications per source, IN_FLIGHT at a time. */
async function sendRange(from: number, to: number, half: 1 | 2) {
  const batches: Array<{ source: Sent['source']; items: Array<{ i: number; plan: ReturnType<typeof planOf> }> }> = [];
  for (const source of ['sc-erp', 'sc-shop'] as const) {
    const items = [];
    for (let i = from; i < to; i++) if (planOf(i).source === source) items.push({ i, plan: planOf(i) });
    for (let at = 0; at < items.length; at += PER_WEBHOOK)
      batches.push({ source, items: items.slice(at, at + PER_WEBHOOK) });
  }
  let next = 0;
  const sender = async () => {
    while (next < batches.length) {
      const { source, items } = batches[next++]!;
      const text = JSON.stringify(
        extendBody(
          items.map(({ plan }) => ({
            Action: plan.action,
            Details: { OrderNumber: plan.entity, Warehouse: plan.warehouse },
          })),
        ),
      );
      // A busy Temporal can miss the front door's ack timeout (503): the source sends the same webhook
      // again, as Extend does; the events already started are recognised by their ids.
      let res = await post(h.app, `/webhooks/${source}`, text, { 'ms-signature': sign.ms(SECRET, text) });
      for (let retry = 0; res.statusCode === 503 && retry < 5; retry++) {
        retried++;
        res = await post(h.app, `/webhooks/${source}`, text, { 'ms-signature': sign.ms(SECRET, text) });
      }
      expect(res.statusCode).toBe(202);
      const events = res.json().events as Array<{ workflowId: string }>;
      expect(events).toHaveLength(items.length);
      items.forEach(({ plan }, k) =>
        sent.push({
          workflowId: events[k]!.workflowId,
          source,
          type: `extend-commerce.${plan.action}`,
          entity: plan.entity,
          status: plan.status,
          delivered: plan.delivered,
          half,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
}

const count = (query: string) => h.client.workflow.count(query).then((c) => c.count);

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
server: { rateLimit: { max: 100000 } }
sources:
  - { id: sc-erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [W1] } }
  - { id: sc-shop, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [W1] } }
`),
  );
  okSub = await createSubscription(h, {
    url: `${receiver.url}/ok`,
    secret: 's',
    triggers: ['extend-commerce.OrderCreated'],
  });
  testStart = new Date().toISOString();
  const started = Date.now();
  await sendRange(0, EVENTS / 2, 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  midpoint = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await sendRange(EVENTS / 2, EVENTS, 2);
  const sentIn = Date.now() - started;
  const deliveries = sent.filter((s) => s.delivered).length;
  await eventually(
    async () =>
      (await count(
        `WorkflowType = 'inboundWorkflow' AND StartTime >= '${testStart}' AND HookflowSource IN ('sc-erp', 'sc-shop') AND ExecutionStatus != 'Running'`,
      )) === EVENTS &&
      (await count(
        `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${okSub}' AND ExecutionStatus != 'Running'`,
      )) === deliveries,
    `${EVENTS} events and ${deliveries} deliveries to settle`,
    120_000,
  );
  process.stderr.write(
    `event log scale test: ${EVENTS} events sent in ${sentIn} ms (${retried} webhooks sent again), settled in ${Date.now() - started} ms\n`,
  );
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

type Row = {
  workflowId: string | null;
  source: string | null;
  type: string | null;
  entity: string | null;
  status: string | null;
  deliveries: Array<{ subscriptionId: string; status: string }>;
};

/** Every page of a search: its rows in order, and how many pages it took. */
async function walk(params: Record<string, string>) {
  const rows: Row[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await adminApi(
      h,
      'GET',
      `/api/events?${new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) })}`,
    );
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

test(`pages of 50 walk all ${EVENTS} events once, with no gap or repeat`, async () => {
  expect(sent).toHaveLength(EVENTS);
  const { rows, pages } = await walk({ from: testStart, pageSize: '50' });
  // Only this file's events (and any operational event, source `hookflow`) were started since testStart.
  const mine = rows.filter((r) => r.source !== 'hookflow');
  expect(pages).toBeGreaterThanOrEqual(EVENTS / 50);
  expect(new Set(rows.map((r) => r.workflowId)).size).toBe(rows.length);
  expect(ids(mine)).toEqual(expected(() => true));
});

test('each filter narrows to exactly what was sent', async () => {
  const from = testStart;
  const cases: Array<[Record<string, string>, (s: Sent) => boolean]> = [
    [{ source: 'sc-erp' }, (s) => s.source === 'sc-erp'],
    [{ source: 'sc-shop' }, (s) => s.source === 'sc-shop'],
    [{ type: 'extend-commerce.OrderPicked', from }, (s) => s.type === 'extend-commerce.OrderPicked'],
    [{ type: 'PurchaseCreated', from }, (s) => s.type === 'extend-commerce.PurchaseCreated'],
    [{ type: 'extend-commerce.*', from }, () => true],
    [{ status: 'filtered', from }, (s) => s.status === 'filtered'],
    [{ status: 'handed-off', from }, (s) => s.status === 'handed-off'],
    [
      { source: 'sc-shop', type: 'extend-commerce.OrderCreated', status: 'handed-off' },
      (s) => s.source === 'sc-shop' && s.type === 'extend-commerce.OrderCreated' && s.status === 'handed-off',
    ],
    [{ subscription: okSub }, (s) => s.delivered],
    [{ subscription: okSub, status: 'delivered' }, (s) => s.delivered],
    [{ subscription: okSub, status: 'failed' }, () => false],
    [{ source: 'sc-erp', from, to: midpoint }, (s) => s.source === 'sc-erp' && s.half === 1],
    [{ source: 'sc-erp', from: midpoint }, (s) => s.source === 'sc-erp' && s.half === 2],
    [
      { status: 'filtered', type: 'extend-commerce.OrderCreated', from: midpoint },
      (s) => s.status === 'filtered' && s.type === 'extend-commerce.OrderCreated' && s.half === 2,
    ],
  ];
  for (const [params, pick] of cases) {
    const want = expected(pick);
    const { rows } = await walk({ ...params, pageSize: '200' });
    expect({ params, count: rows.length }).toEqual({ params, count: want.length });
    expect(ids(rows)).toEqual(want);
  }
});

test('an entity is found alone, with its delivery when it has one', async () => {
  // A spread of entities over the whole fill: first, last, every 97th, and the delivered ones.
  const picks = sent.filter((s, k) => k === 0 || k === sent.length - 1 || k % 97 === 0 || s.delivered);
  for (const s of picks) {
    const res = await adminApi(h, 'GET', `/api/events?entity=${s.entity}`);
    expect(res.statusCode).toBe(200);
    const { events } = res.json() as { events: Row[] };
    expect(events).toEqual([
      expect.objectContaining({ workflowId: s.workflowId, source: s.source, type: s.type, status: s.status }),
    ]);
    expect(events[0]!.deliveries).toEqual(
      s.delivered ? [expect.objectContaining({ subscriptionId: okSub, status: 'delivered' })] : [],
    );
  }
});
