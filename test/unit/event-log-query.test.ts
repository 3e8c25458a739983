import fc from 'fast-check';
import { InvalidPayloadError } from '../../src/errors';
import {
  deliverySideQuery,
  inboundQuery,
  parseEventSearch,
  type RawEventSearch,
} from '../../src/temporal/event-log-query';

/** The event log's search as visibility queries: values are literals, and what cannot be one is refused by name. */

const parse = (raw: RawEventSearch) => parseEventSearch(raw);
const fieldOf = (raw: RawEventSearch) => {
  try {
    parse(raw);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPayloadError);
    return (err as Error).message.split(':')[0];
  }
};

test('each field becomes one clause of the inbound query', () => {
  expect(
    inboundQuery(
      parse({
        entity: 'SO-10442',
        source: 'erp',
        type: 'extend-commerce.OrderCreated',
        status: 'filtered',
        from: '2026-12-04T08:00',
        to: '2026-12-05',
      }),
    ),
  ).toBe(
    "WorkflowType = 'inboundWorkflow' AND HookflowEntity = 'SO-10442' AND HookflowSource = 'erp'" +
      " AND HookflowSourceKind = 'extend-commerce' AND HookflowEventType = 'OrderCreated'" +
      " AND HookflowStatus = 'filtered' AND StartTime >= '2026-12-04T08:00:00.000Z' AND StartTime < '2026-12-05T00:00:00.000Z'",
  );
});

test('types: a source kind prefix, a published type, a prefix', () => {
  const q = (type: string) => inboundQuery(parse({ type })).replace("WorkflowType = 'inboundWorkflow' AND ", '');
  expect(q('extend-commerce.*')).toBe("HookflowSourceKind = 'extend-commerce'");
  expect(q('ongoing-wms.Order*')).toBe("HookflowSourceKind = 'ongoing-wms' AND HookflowEventType STARTS_WITH 'Order'");
  expect(q('shop.OrderPaid')).toBe("HookflowEventType = 'shop.OrderPaid'");
  expect(q('shop.*')).toBe("HookflowEventType STARTS_WITH 'shop.'");
  expect(inboundQuery(parse({ type: '*' }))).toBe("WorkflowType = 'inboundWorkflow'");
});

test('a subscription or a delivery status searches the deliveries', () => {
  expect(
    deliverySideQuery(parse({ subscription: 'erp-prod', status: 'failed', source: 'erp', type: 'OrderCreated' })),
  ).toBe(
    "WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = 'erp-prod' AND HookflowStatus = 'failed'" +
      " AND HookflowEventId STARTS_WITH 'erp/' AND (HookflowEventType = 'OrderCreated'" +
      " OR HookflowEventType = 'extend-commerce.OrderCreated' OR HookflowEventType = 'ongoing-wms.OrderCreated'" +
      " OR HookflowEventType = 'automation-api.OrderCreated')",
  );
});

test('quotes, backslashes and control characters are refused, naming the field', () => {
  expect(fieldOf({ entity: "' OR 1=1" })).toBe('entity');
  expect(fieldOf({ source: 'a"b' })).toBe('source');
  expect(fieldOf({ subscription: 'a\\b' })).toBe('subscription');
  expect(fieldOf({ type: 'x\ny' })).toBe('type');
  expect(fieldOf({ type: 'a*b' })).toBe('type');
  expect(fieldOf({ status: 'lost' })).toBe('status');
  expect(fieldOf({ from: 'soon' })).toBe('from');
  expect(fieldOf({ from: '2026-12-05', to: '2026-12-04' })).toBe('to');
  expect(fieldOf({ pageSize: '0' })).toBe('pageSize');
  expect(fieldOf({ pageSize: '201' })).toBe('pageSize');
  expect(fieldOf({ cursor: 'a b' })).toBe('cursor');
  expect(fieldOf({ cursor: Buffer.from('not json').toString('base64url') })).toBe('cursor');
  expect(fieldOf({ cursor: Buffer.from('{"CloseTime":"x"}').toString('base64url') })).toBe('cursor');
  expect(fieldOf({ entity: 'x'.repeat(256) })).toBe('entity');
});

test('whatever is accepted stays one literal: the query keeps its shape', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (entity, source) => {
      let search;
      try {
        search = parse({ entity, source });
      } catch {
        return; // refused: fine
      }
      // Outside the literals only the fixed words remain.
      const skeleton = inboundQuery(search).replace(/'[^']*'/g, "''");
      const want = [
        "WorkflowType = ''",
        ...(search.entity !== undefined ? ["HookflowEntity = ''"] : []),
        ...(search.source !== undefined ? ["HookflowSource = ''"] : []),
      ].join(' AND ');
      expect(skeleton).toBe(want);
    }),
  );
});
