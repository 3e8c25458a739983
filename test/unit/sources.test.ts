import { parseConfig } from '../../src/config/load';
import type { SourceOf } from '../../src/sources';
import { InvalidPayloadError } from '../../src/errors';
import { automationApi } from '../../src/sources/automation-api';
import { EXTEND_ACTIONS, extendCommerce } from '../../src/sources/extend-commerce';
import { confineFollowUpUrl, fillTemplate, planFollowUp } from '../../src/sources/follow-up-url';
import { ongoingWms } from '../../src/sources/ongoing-wms';
import type { WebhookRequest } from '../../src/sources/source-kind';
import { filterRejection } from '../../src/shared/filter';
import actionSamples from '../fixtures/extend-action-samples.json';
import purchasePartiallyDelivered from '../fixtures/extend-purchase-partially-delivered.json';
import ongoingOrderPicked from '../fixtures/ongoing-order-picked.json';
import ongoingOrderPublished from '../fixtures/ongoing/order.json';
import automationOrderAccepted from '../fixtures/automation-order-accepted.json';

const request = (body: unknown, at = new Date('2026-11-22T10:00:00Z')): WebhookRequest => ({
  rawBody: Buffer.from(JSON.stringify(body)),
  headers: {},
  query: {},
  receivedAt: at,
});

const automationConfig = parseConfig('sources: [{ id: esign, kind: automation-api }]', {})
  .sources[0] as SourceOf<'automation-api'>;
const extendConfig = parseConfig('sources: [{ id: erp, kind: extend-commerce, secret: s }]', {})
  .sources[0] as SourceOf<'extend-commerce'>;

describe('Extend Commerce', () => {
  test('the seed envelope gives one recognised notification with dedup key, entity and warehouse', () => {
    const [event, ...rest] = extendCommerce.parse(
      purchasePartiallyDelivered,
      request(purchasePartiallyDelivered),
      extendConfig,
    );
    expect(rest).toHaveLength(0);
    expect(event).toMatchObject({
      eventKey: '3b3fd4a6-36d5-46fe-8a3f-e73532529db3-0',
      eventType: 'PurchasePartiallyDelivered',
      recognised: true,
      entity: 'RP-101',
      warehouse: 'GreenWarehouse',
    });
    expect(event?.payload).toMatchObject({
      Id: '6e249eebb818463086ae0dda6eeba7b2',
      Attempt: 1,
      Details: { OrderNumber: 'RP-101' },
    });
  });

  test('every action of the complete list parses with its sample Details', () => {
    expect([...EXTEND_ACTIONS].sort()).toEqual(Object.keys(actionSamples).sort());
    for (const [action, sample] of Object.entries(actionSamples)) {
      const body = {
        Id: 'abc',
        Attempt: 1,
        Properties: { NotificationId: `n-${action}` },
        Notifications: [{ Action: action, ...sample }],
      };
      const [event] = extendCommerce.parse(body, request(body), extendConfig);
      expect(event?.recognised).toBe(true);
      expect(event?.eventType).toBe(action);
      expect(event?.entity).toBeDefined();
    }
  });

  test('PickingStarted takes OrderNumber and Warehouse from the nested Order', () => {
    const body = { Id: 'x', Notifications: [{ Action: 'PickingStarted', ...actionSamples.PickingStarted }] };
    const [event] = extendCommerce.parse(body, request(body), extendConfig);
    expect(event).toMatchObject({ entity: '802624', warehouse: 'ADR-1', eventKey: 'x-0' });
    expect(event?.templateVars.OrderNumber).toBe('802624');
  });

  test('several notifications give one event each, keyed by NotificationId and index', () => {
    const body = {
      ...purchasePartiallyDelivered,
      Notifications: [
        purchasePartiallyDelivered.Notifications[0],
        { Action: 'OrderCreated', Details: { OrderNumber: '1' } },
      ],
    };
    const events = extendCommerce.parse(body, request(body), extendConfig);
    expect(events.map((e) => e.eventKey)).toEqual([
      '3b3fd4a6-36d5-46fe-8a3f-e73532529db3-0',
      '3b3fd4a6-36d5-46fe-8a3f-e73532529db3-1',
    ]);
  });

  test('an unknown action is kept, flagged as not recognised', () => {
    const body = { Id: 'x', Notifications: [{ Action: 'WarehouseExploded', Details: { Foo: 1 } }] };
    const [event] = extendCommerce.parse(body, request(body), extendConfig);
    expect(event).toMatchObject({
      eventType: 'WarehouseExploded',
      recognised: false,
      payload: { Details: { Foo: 1 } },
    });
  });

  test.each([
    ['no Notifications', { Id: 'x' }, /Notifications/],
    ['empty Notifications', { Id: 'x', Notifications: [] }, /at least one/],
    ['no Id', { Notifications: [{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }] }, /Id/],
    [
      'a known action without its key field',
      { Id: 'x', Notifications: [{ Action: 'OrderCreated', Details: { OrderType: 'NormalOrder' } }] },
      /Notifications\[0\] \(OrderCreated\) Details: OrderNumber/,
    ],
    ['an array body', [], /envelope/],
  ])('refuses %s with a 400 naming the field', (_name, body, message) => {
    expect(() => extendCommerce.parse(body, request(body), extendConfig)).toThrow(InvalidPayloadError);
    expect(() => extendCommerce.parse(body, request(body), extendConfig)).toThrow(message);
  });
});

describe('Ongoing WMS', () => {
  const config = parseConfig('sources: [{ id: wms, kind: ongoing-wms, auth: { type: none } }]', {})
    .sources[0] as SourceOf<'ongoing-wms'>;

  test('an order webhook is keyed by its family id and webhookEventId, and filtered by goods owner', () => {
    const [event] = ongoingWms.parse(ongoingOrderPicked, request(ongoingOrderPicked), config);
    expect(event).toMatchObject({
      eventKey: 'webhookOrdersId/991/48213377',
      eventType: 'OrderPicked',
      entity: 'SO-10442',
      goodsOwnerId: 162,
      recognised: true,
    });
    expect(event?.templateVars.path).toBe('/api/v1/orders/2280031');
  });

  test("Ongoing's published order example (byUser and byComputer objects, tracking, parcels) is accepted and carried untouched", () => {
    const body = structuredClone(ongoingOrderPublished);
    const [event] = ongoingWms.parse(body, request(body), config);
    expect(event).toMatchObject({
      eventKey: 'webhookOrdersId/0/0',
      eventType: 'string',
      entity: 'string',
      goodsOwnerId: 0,
    });
    expect(event?.payload).toEqual(ongoingOrderPublished);
    expect(event?.templateVars.path).toBe('string');
  });

  // Fields hookflow does not use may have any JSON type, at the top level or nested, now or next year.
  const extras: Record<string, unknown> = {
    anObject: { nested: { deeper: [1, 'two', null] } },
    anArray: [{ a: 1 }, [], 'x'],
    aNull: null,
    aNumber: -1.5e300,
    aLongString: 'x'.repeat(100_000),
    unicode: 'åäö 漢字 🚚 \u202e',
    aBoolean: false,
  };
  test.each(Object.keys(extras))('an extra %s field, at the top level or nested, changes nothing', (name) => {
    const body = structuredClone(ongoingOrderPublished) as Record<string, unknown> & {
      byUser: Record<string, unknown>;
    };
    body[name] = extras[name];
    body.byUser[name] = extras[name];
    body.byComputer = extras[name];
    const [event] = ongoingWms.parse(body, request(body), config);
    expect(event).toMatchObject({ eventKey: 'webhookOrdersId/0/0', entity: 'string', goodsOwnerId: 0 });
    expect(event?.payload).toEqual(body);
  });

  test('refuses a body without webhookEventId or with a non-integer goodsOwnerId', () => {
    expect(() => ongoingWms.parse({ goodsOwnerId: 1 }, request({}), config)).toThrow(/webhookEventId/);
    expect(() => ongoingWms.parse({ webhookEventId: 1, goodsOwnerId: '1' }, request({}), config)).toThrow(
      /goodsOwnerId/,
    );
    expect(() => ongoingWms.parse({ webhookEventId: 1, goodsOwnerId: 1, orderNumber: 5 }, request({}), config)).toThrow(
      /orderNumber/,
    );
  });
});

describe('Automation API', () => {
  test('dedup keys of different (orderId, eventType) pairs never collide', () => {
    const keyOf = (body: { orderId: string; eventType: string }) =>
      automationApi.parse(body, request(body), automationConfig)[0]?.eventKey;
    expect(keyOf({ orderId: 'X-OrderSigned', eventType: 'X' })).not.toBe(
      keyOf({ orderId: 'X', eventType: 'OrderSigned-X' }),
    );
    expect(keyOf({ orderId: 'X/OrderSigned', eventType: 'X' })).not.toBe(
      keyOf({ orderId: 'X', eventType: 'OrderSigned/X' }),
    );
  });

  test('state events are keyed by orderId and eventType', () => {
    const [event] = automationApi.parse(automationOrderAccepted, request(automationOrderAccepted), automationConfig);
    expect(event).toMatchObject({
      eventKey: '07c6ad8c-d1ba-4e73-9bbf-c70a085a449c/OrderAccepted',
      recognised: true,
      entity: '07c6ad8c-d1ba-4e73-9bbf-c70a085a449c',
    });
  });

  test('OrderDueDateUpdated is keyed per dedup window: same window same key, next window a new key', () => {
    const body = { orderId: 'o1', eventType: 'OrderDueDateUpdated' };
    const key = (iso: string) => automationApi.parse(body, request(body, new Date(iso)), automationConfig)[0]?.eventKey;
    expect(key('2026-11-22T10:00:05Z')).toBe(key('2026-11-22T10:00:55Z'));
    expect(key('2026-11-22T10:00:05Z')).not.toBe(key('2026-11-22T10:01:05Z'));
  });

  test('an unknown event type is kept, not recognised', () => {
    const body = { orderId: 'o1', eventType: 'OrderTeleported' };
    expect(automationApi.parse(body, request(body), automationConfig)[0]).toMatchObject({
      recognised: false,
      eventType: 'OrderTeleported',
    });
  });

  test('refuses a body without orderId', () => {
    expect(() => automationApi.parse({ eventType: 'OrderCreated' }, request({}), automationConfig)).toThrow(/orderId/);
  });
});

describe('follow-up URL templates', () => {
  test('{Name} is percent-encoded, {+Name} verbatim', () => {
    expect(fillTemplate('http://h/orders/{OrderNumber}', { OrderNumber: 'RP 1/2' })).toEqual({
      url: 'http://h/orders/RP%201%2F2',
    });
    expect(fillTemplate('http://h{+path}', { path: '/api/v1/orders/1' })).toEqual({ url: 'http://h/api/v1/orders/1' });
    expect(fillTemplate('http://h/{missing}', {})).toEqual({ missing: 'missing' });
  });

  test('per-type template, then *, then none', () => {
    const source = parseConfig(
      'sources: [{ id: erp, kind: extend-commerce, secret: s, followUp: { urls: { OrderCreated: "http://h/o/{OrderNumber}", "*": "http://h/any/{Action}" } } }]',
      {},
    ).sources[0]!;
    expect(planFollowUp(source, 'OrderCreated', { OrderNumber: '7' })).toEqual({ kind: 'fetch', url: 'http://h/o/7' });
    expect(planFollowUp(source, 'ProductCreated', { Action: 'ProductCreated' })).toEqual({
      kind: 'fetch',
      url: 'http://h/any/ProductCreated',
    });
    expect(planFollowUp(source, 'OrderCreated', {})).toEqual({
      kind: 'unavailable',
      reason: 'the event has no value for {OrderNumber}',
    });
    expect(planFollowUp(extendConfig, 'OrderCreated', {})).toEqual({ kind: 'none' });
  });
});

describe('filters', () => {
  test('warehouses and goods owners', () => {
    expect(filterRejection({ warehouse: 'ADR-1' }, { warehouses: ['ADR-1'] })).toBeUndefined();
    expect(filterRejection({ warehouse: 'YX' }, { warehouses: ['ADR-1'] })).toMatch(/warehouse YX/);
    expect(filterRejection({}, { warehouses: ['ADR-1'] })).toBeUndefined();
    expect(filterRejection({ goodsOwnerId: 162 }, { goodsOwners: [162, 7] })).toBeUndefined();
    expect(filterRejection({ goodsOwnerId: 5 }, { goodsOwners: [162] })).toMatch(/goods owner 5/);
    expect(filterRejection({ goodsOwnerId: 5 }, {})).toBeUndefined();
  });
});

describe('follow-up URL confinement', () => {
  const ongoingTemplate = 'https://api.ongoingsystems.se/YourSystem/api/v1{+path}';
  test.each([
    ['http://127.0.0.1:9601{+path}', '@127.0.0.1:9602/x'],
    ['http://127.0.0.1:9601{+path}', '@[::1]:9602/x'],
    [ongoingTemplate, '/../../x'],
    [ongoingTemplate, '/%2e%2e/%2e%2e/x'],
    [ongoingTemplate, '/..%2f..%2fx'],
    [ongoingTemplate, '\\..\\..\\x'],
    [ongoingTemplate, '-admin/x'],
  ])('%s with path %j is refused: the event ends as follow-up-failed without a request', (template, path) => {
    const filled = fillTemplate(template, { path });
    expect('url' in filled && confineFollowUpUrl(template, filled.url)).toHaveProperty('refused');
    const source = parseConfig(
      `sources: [{ id: w, kind: ongoing-wms, auth: { type: none }, followUp: { urls: { "*": "${template}" } } }]`,
      {},
    ).sources[0]!;
    expect(planFollowUp(source, 'OrderPicked', { path })).toMatchObject({ kind: 'unavailable' });
  });

  test('a path inside the prefix is fetched, normalised', () => {
    expect(confineFollowUpUrl(ongoingTemplate, 'https://api.ongoingsystems.se/YourSystem/api/v1/orders/1')).toEqual({
      url: 'https://api.ongoingsystems.se/YourSystem/api/v1/orders/1',
    });
    expect(confineFollowUpUrl(ongoingTemplate, 'https://api.ongoingsystems.se/YourSystem/api/v1/orders/./1')).toEqual({
      url: 'https://api.ongoingsystems.se/YourSystem/api/v1/orders/1',
    });
  });

  test('a template must write out its scheme and host', () => {
    expect(() =>
      parseConfig(
        'sources: [{ id: w, kind: ongoing-wms, auth: { type: none }, followUp: { urls: { "*": "{+path}" } } }]',
        {},
      ),
    ).toThrow(/http/);
  });
});
