import fc from 'fast-check';
import { parseConfig } from '../../src/config/load';
import type { SourceConfig, SourceOf } from '../../src/sources';
import { InvalidPayloadError } from '../../src/errors';
import { automationApi, AUTOMATION_EVENT_TYPES } from '../../src/sources/automation-api';
import { EXTEND_ACTIONS, EXTEND_ENTITY, extendCommerce, type ExtendAction } from '../../src/sources/extend-commerce';
import { planFollowUp } from '../../src/sources/follow-up-url';
import { ONGOING_FAMILIES, ongoingWms } from '../../src/sources/ongoing-wms';
import type { ParsedNotification, WebhookRequest } from '../../src/sources/source-kind';
import {
  AUTOMATION_EVENTS,
  EXTEND_NOTIFICATIONS,
  ONGOING_EXAMPLES,
  extendEnvelope,
  setAt,
  valueAt,
} from '../support/published';

const request = (body: unknown): WebhookRequest => ({
  rawBody: Buffer.from(JSON.stringify(body)),
  headers: {},
  query: {},
  receivedAt: new Date('2026-11-24T10:00:00Z'),
});
const source = <K extends SourceConfig['kind']>(yaml: string) =>
  parseConfig(`sources: [${yaml}]`, {}).sources[0] as SourceOf<K>;
const ongoing = source<'ongoing-wms'>('{ id: wms, kind: ongoing-wms, auth: { type: none } }');
const extend = source<'extend-commerce'>('{ id: erp, kind: extend-commerce, secret: s }');
const automation = source<'automation-api'>('{ id: esign, kind: automation-api }');

const familyOf = (page: string) => ONGOING_FAMILIES.find((family) => family.page === page)!;
const outcome = ({ eventKey, eventType, recognised, entity, warehouse, goodsOwnerId }: ParsedNotification) => ({
  eventKey,
  eventType,
  recognised,
  entity,
  warehouse,
  goodsOwnerId,
});

describe('Ongoing WMS: every published webhook family', () => {
  test('one fixture per family hookflow knows, and one family per fixture', () => {
    expect(ONGOING_EXAMPLES.map((e) => e.page)).toEqual(ONGOING_FAMILIES.map((f) => f.page).sort());
  });

  test.each(ONGOING_EXAMPLES)(
    '$page: accepted as published, keyed by its webhook id and webhookEventId, carried untouched',
    ({ page, body }) => {
      const family = familyOf(page);
      const original = structuredClone(body);
      const [event, ...rest] = ongoingWms.parse(body, request(body), ongoing);
      expect(rest).toHaveLength(0);
      expect(body[family.idField]).toBe(0);
      expect(event).toMatchObject({
        eventKey: `${family.idField}/0/0`,
        goodsOwnerId: 0,
        recognised: true,
        eventType: body.webhookTemplate ?? page,
      });
      expect(event?.entity).toBe(String(valueAt(body, family.entity[0])));
      expect(event?.payload).toBe(body); // the body itself: nothing rebuilt, nothing dropped
      expect(body).toEqual(original);
      if (typeof body.path === 'string') expect(event?.templateVars.path).toBe(body.path);
    },
  );

  test.each(ONGOING_EXAMPLES)('$page: the entity is read from its own field', ({ page, body }) => {
    const family = familyOf(page);
    const marked = structuredClone(body);
    const marker = typeof valueAt(body, family.entity[0]) === 'number' ? 4_242_001 : `ENTITY-${page}`;
    setAt(marked, family.entity[0], marker);
    expect(ongoingWms.parse(marked, request(marked), ongoing)[0]?.entity).toBe(String(marker));
    // ... and its wrong type is a 400 naming it.
    setAt(marked, family.entity[0], { $gt: '' });
    expect(() => ongoingWms.parse(marked, request(marked), ongoing)).toThrow(InvalidPayloadError);
    expect(() => ongoingWms.parse(marked, request(marked), ongoing)).toThrow(family.entity[0]);
  });

  test('families and webhooks sharing a source never share a dedup key', () => {
    const keys = ONGOING_EXAMPLES.map(({ body }) => ongoingWms.parse(body, request(body), ongoing)[0]?.eventKey);
    expect(new Set(keys).size).toBe(ONGOING_EXAMPLES.length);
    const order = ONGOING_EXAMPLES.find((e) => e.page === 'order')!.body;
    const other = { ...order, webhookOrdersId: 992 };
    expect(ongoingWms.parse(other, request(other), ongoing)[0]?.eventKey).toBe('webhookOrdersId/992/0');
  });

  test('a family hookflow does not know yet is keyed by its webhook<Name>Id; without any family id, webhookEventId alone', () => {
    const future = {
      webhookReturnOrdersId: 12,
      webhookEventId: 34,
      goodsOwnerId: 1,
      webhookTemplate: 'ReturnOrderCreated',
      orderNumber: 'R-1',
    };
    expect(ongoingWms.parse(future, request(future), ongoing)[0]).toMatchObject({
      eventKey: 'webhookReturnOrdersId/12/34',
      entity: 'R-1',
      recognised: true,
    });
    const bare = { webhookEventId: 35, goodsOwnerId: 1 };
    expect(ongoingWms.parse(bare, request(bare), ongoing)[0]).toMatchObject({
      eventKey: '35',
      eventType: 'Unknown',
      recognised: false,
    });
    const noEventId = { webhookShipmentsId: 7, goodsOwnerId: 1, shipmentId: 9 };
    expect(ongoingWms.parse(noEventId, request(noEventId), ongoing)[0]).toMatchObject({
      eventKey: 'webhookShipmentsId/7',
      eventType: 'shipment',
      entity: '9',
    });
  });

  test('a used field of the wrong type is a 400 naming it', () => {
    const order = ONGOING_EXAMPLES.find((e) => e.page === 'order')!.body;
    for (const [field, value] of [
      ['webhookOrdersId', '991'],
      ['webhookEventId', 1.5],
      ['goodsOwnerId', '162'],
      ['path', 7],
      ['webhookTemplate', 1],
    ] as const) {
      const body = { ...order, [field]: value };
      expect(() => ongoingWms.parse(body, request(body), ongoing)).toThrow(new RegExp(`${field}:`));
    }
  });

  test('nested scalars are template values by dotted name; a catch-all template without its value means no follow-up', () => {
    const moves = ONGOING_EXAMPLES.find((e) => e.page === 'inbound-and-move')!.body;
    const [event] = ongoingWms.parse(moves, request(moves), ongoing);
    expect(event?.templateVars).toMatchObject({
      'article.articleNumber': 'string',
      'purchaseOrder.purchaseOrderLine.rowNumber': 'string',
      webhookMovesId: '0',
    });
    const withFollowUp = source<'ongoing-wms'>(
      '{ id: w, kind: ongoing-wms, auth: { type: none }, followUp: { urls: { "*": "http://h/api/v1{+path}", Moves: "http://h/api/v1/articles/{article.articleNumber}" } } }',
    );
    expect(planFollowUp(withFollowUp, 'string', event!.templateVars)).toEqual({ kind: 'none' }); // no `path` in this family
    expect(planFollowUp(withFollowUp, 'Moves', event!.templateVars)).toEqual({
      kind: 'fetch',
      url: 'http://h/api/v1/articles/string',
    });
    expect(planFollowUp(withFollowUp, 'Moves', {})).toMatchObject({ kind: 'unavailable' }); // its own template: a missing value is a problem
  });
});

describe('Extend Commerce: all 21 actions of the complete list', () => {
  test('the corpus is the complete list', () => {
    expect(EXTEND_NOTIFICATIONS.map((n) => n.Action).sort()).toEqual([...EXTEND_ACTIONS].sort());
    expect(EXTEND_NOTIFICATIONS).toHaveLength(21);
  });

  test('one envelope with every action: one event each, entity per action, warehouse flat or nested, Details untouched', () => {
    const body = extendEnvelope();
    const original = structuredClone(body);
    const events = extendCommerce.parse(body, request(body), extend);
    expect(events).toHaveLength(21);
    events.forEach((event, index) => {
      const { Action, Details } = original.Notifications[index]!;
      const entityField = EXTEND_ENTITY[Action as ExtendAction];
      const holder = (Action === 'PickingStarted' ? Details.Order : Details) as Record<string, unknown>;
      expect(event).toMatchObject({
        eventKey: `3b3fd4a6-36d5-46fe-8a3f-e73532529db3-${index}`,
        eventType: Action,
        recognised: true,
        entity: String(holder[entityField]),
      });
      expect(event.warehouse).toBe(holder.Warehouse);
      expect(event.payload).toEqual({
        Id: original.Id,
        Attempt: 1,
        NotificationId: original.Properties.NotificationId,
        Action,
        Details,
      });
    });
    expect(events.find((e) => e.eventType === 'PickingStarted')).toMatchObject({
      entity: '802624',
      warehouse: 'ADR-1',
    });
    expect(events.find((e) => e.eventType === 'BalanceChanged')?.payload.Details).toEqual({
      ProductNumber: '7495',
      Warehouse: 'YX',
      Balance: 43,
      EventName: 'ItemChangeST',
      EventType: 'BalanceAdjustment',
    });
    expect(body).toEqual(original);
  });

  test('a number where Extend publishes text is accepted and delivered as the number it was', () => {
    const body = extendEnvelope([
      { Action: 'OrderCreated', Details: { OrderNumber: 3339887, OrderType: 'NormalOrder' } },
    ]);
    const [event] = extendCommerce.parse(body, request(body), extend);
    expect(event?.entity).toBe('3339887');
    expect(event?.payload.Details).toEqual({ OrderNumber: 3339887, OrderType: 'NormalOrder' });
  });
});

describe('Automation API: every event type of the page', () => {
  test('the corpus is the complete list', () => {
    expect(AUTOMATION_EVENTS.map((e) => e.eventType)).toEqual([...AUTOMATION_EVENT_TYPES]);
  });

  test.each(AUTOMATION_EVENTS)('$eventType: recognised, keyed, the body carried as received', (body) => {
    const [event] = automationApi.parse(body, request(body), automation);
    expect(event).toMatchObject({ eventType: body.eventType, recognised: true, entity: body.orderId });
    expect(event?.eventKey.startsWith(`${body.orderId}/${body.eventType}`)).toBe(true);
    expect(event?.payload).toBe(body);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property: extra fields of every JSON type, at the top level and inside nested objects, never change
// the outcome (no 400, same key, type, entity, warehouse, goods owner) and are carried untouched.

/** Names that never collide with a field hookflow reads. */
const extraKey = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.constantFrom('ÅÄÖ', '漢字', '🚚', '\u202e', ' ', 'x'.repeat(300)),
  )
  .map((name) => `extra ${name}`);
const extraValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(
    null,
    [],
    {},
    -0.5,
    1e300,
    Number.MAX_SAFE_INTEGER + 2,
    'x'.repeat(20_000),
    'åäö 漢字 🚚 \u0000 \u202e',
    true,
  ),
);
const extras = fc.dictionary(extraKey, extraValue, { minKeys: 1, maxKeys: 4 });

/** Adds `added[i]` to the i-th object of the body (the body itself first, then nested objects, arrays' too). */
function objectsOf(value: unknown, into: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(value)) value.forEach((item) => objectsOf(item, into));
  else if (value !== null && typeof value === 'object') {
    into.push(value as Record<string, unknown>);
    Object.values(value).forEach((item) => objectsOf(item, into));
  }
  return into;
}

function withExtras<T>(body: T, added: Array<Record<string, unknown>>): T {
  const copy = structuredClone(body);
  const objects = objectsOf(copy);
  added.forEach((fields, i) => Object.assign(objects[i % objects.length]!, fields));
  return copy;
}

const CORPUS: Array<{
  name: string;
  body: unknown;
  parse: (body: unknown) => ParsedNotification[];
  carried: (event: ParsedNotification, body: never) => unknown;
}> = [
  ...ONGOING_EXAMPLES.map(({ page, body }) => ({
    name: `ongoing ${page}`,
    body,
    parse: (b: unknown) => ongoingWms.parse(b, request(b), ongoing),
    carried: (_e: ParsedNotification, b: never) => b,
  })),
  ...EXTEND_NOTIFICATIONS.map((notification) => ({
    name: `extend ${notification.Action}`,
    body: extendEnvelope([notification]),
    parse: (b: unknown) => extendCommerce.parse(b, request(b), extend),
    carried: (_e: ParsedNotification, b: never) => (b as { Notifications: unknown[] }).Notifications[0],
  })),
  ...AUTOMATION_EVENTS.map((body) => ({
    name: `automation ${body.eventType}`,
    body,
    parse: (b: unknown) => automationApi.parse(b, request(b), automation),
    carried: (_e: ParsedNotification, b: never) => b,
  })),
];

describe('property: extra fields of any JSON type never change the outcome', () => {
  test.each(CORPUS.map((c) => [c.name, c] as const))('%s', (_name, { body, parse, carried }) => {
    const expected = parse(structuredClone(body)).map(outcome);
    fc.assert(
      fc.property(fc.array(extras, { minLength: 1, maxLength: 6 }), (added) => {
        const mutated = withExtras(body, added);
        const events = parse(mutated);
        expect(events.map(outcome)).toEqual(expected);
        // Every field of the notification as received, with its value and type, is in the payload.
        const payload = events[0]!.payload;
        expect(payload).toEqual(
          expect.objectContaining(carried(events[0]!, mutated as never) as Record<string, unknown>),
        );
      }),
      { numRuns: 25 },
    );
  });
});
