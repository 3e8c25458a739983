import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transitionData } from '../../src/activities/alerts';
import { OperationalEvent } from '../../src/shared/health';
import type { OutboundEvent } from '../../src/shared/delivery';
import { closeExpressionPool, transformEvent } from '../../src/subscriptions/expression-pool';
import { transformProblem } from '../../src/subscriptions/expressions';

// On an expression thread, as in the worker (its CPU bound then never counts this process's garbage collection).
afterAll(closeExpressionPool);

/** The worked examples of docs/subscriptions.md ("Worked examples"), run on real payload shapes. */
const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '../fixtures', name), 'utf8'));
const docs = readFileSync(join(__dirname, '../../docs/subscriptions.md'), 'utf8');

/** The example's expression exactly as the docs print it (the fenced jsonata block after its heading). */
const example = (heading: string): string => {
  const at = docs.indexOf(heading);
  if (at < 0) throw new Error(`no example "${heading}" in docs/subscriptions.md`);
  const block = /```jsonata\n([\s\S]*?)```/.exec(docs.slice(at));
  if (!block) throw new Error(`no jsonata block after "${heading}"`);
  return block[1]!.trim();
};

const outbound = (type: string, data: unknown, extra: Partial<OutboundEvent> = {}): OutboundEvent =>
  ({ id: `x/${type}`, type, occurredAt: '2026-12-01T10:00:00.000Z', data, ...extra }) as OutboundEvent;

const run = async (body: string, event: OutboundEvent) => {
  expect(transformProblem({ body })).toBeUndefined();
  return JSON.parse((await transformEvent({ body }, event)).body);
};

test('ERP shape: an Extend order as the ERP wants it', async () => {
  const created = fixture('extend-action-samples.json').OrderCreated;
  const data = { Action: 'OrderCreated', Id: 'n-1', NotificationId: 'n-1', Attempt: 1, ...created };
  // followUp: the order as the source's follow-up URL returns it (the fields the example reads).
  const followUp = {
    OrderNumber: '3339887',
    Currency: 'SEK',
    Rows: [
      { Position: 10, ProductNumber: '4340-001', Quantity: 2, UnitPrice: 100 },
      { Position: 20, ProductNumber: '8684', Quantity: 1, UnitPrice: 49.5 },
    ],
  };
  const body = await run(
    example('### ERP shape'),
    outbound('OrderCreated', data, { followUp } as Partial<OutboundEvent>),
  );
  expect(body).toEqual({
    orderNo: '3339887',
    kind: 'NormalOrder',
    lines: [
      { line: 10, sku: '4340-001', qty: 2, price: 100, amount: 200 },
      { line: 20, sku: '8684', qty: 1, price: 49.5, amount: 49.5 },
    ],
    totals: { lines: 2, quantity: 3, net: 249.5, currency: 'SEK' },
  });
});

test('shop subset: a few fields of an Ongoing order', async () => {
  const order = fixture('ongoing-order-picked.json');
  const body = await run(example('### Shop subset'), outbound('OrderPicked', order));
  expect(body).toEqual({ order: 'SO-10442', status: 400, picked: true, at: '2026-11-20T09:15:03.512Z' });
  const published = fixture('ongoing/order.json'); // tracking present: the waybills come along
  expect((await run(example('### Shop subset'), outbound('OrderPicked', published))).tracking).toEqual([
    'string',
    'string',
  ]);
});

test('Slack message for alert events', async () => {
  const data = transitionData(
    {
      subscriptionId: 'erp-sync',
      state: 'failing',
      since: '2026-12-01T09:58:00.000Z',
      consecutiveFailures: 3,
      lastFailure: { httpStatus: 503, error: 'HTTP 503' },
      publish: true,
      email: true,
    },
    { name: 'ERP sync', url: 'https://erp.example.com/hooks' } as never,
  );
  const body = await run(example('### Slack message'), outbound(OperationalEvent.failing, data));
  expect(body).toEqual({
    text: ':red_circle: *ERP sync* is failing since 2026-12-01T09:58:00.000Z (3 failed attempts, last: 503 HTTP 503) on erp.example.com',
  });
  const recovered = transitionData(
    {
      subscriptionId: 'erp-sync',
      state: 'healthy',
      since: '2026-12-01T10:30:00.000Z',
      consecutiveFailures: 0,
      publish: true,
      email: true,
    },
    null,
  );
  expect(await run(example('### Slack message'), outbound(OperationalEvent.recovered, recovered))).toEqual({
    text: ':large_green_circle: *erp-sync* is healthy since 2026-12-01T10:30:00.000Z',
  });
});
