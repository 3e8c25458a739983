import fc from 'fast-check';
import { SA } from '../../src/shared/search-attributes';
import type { InboundWorkflowResult } from '../../src/shared/inbound';
import { ONGOING_FAMILIES } from '../../src/sources/ongoing-wms';
import { EXTEND_ENTITY, type ExtendAction } from '../../src/sources/extend-commerce';
import { FakeHttpPeer, type RecordedRequest } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription, json, verify } from '../support/outbound';
import {
  AUTOMATION_EVENTS,
  EXTEND_NOTIFICATIONS,
  ONGOING_EXAMPLES,
  extendEnvelope,
  valueAt,
} from '../support/published';
import { post, sign } from '../support/webhooks';

/**
 * Every published payload of the three senders (test/fixtures/README.md), sent as its sender sends it
 * (Basic or X-Auth-Token, ms-signature, X-Signature with ?key=), through the real front door, the
 * real workflows on a dev server and a real receiver on loopback.
 */
const EXTEND_SECRET = 'corpus-extend-secret';
const ESIGN_SECRET = 'HeaderSecret';
const SUBSCRIBER_SECRET = 'corpus-subscriber-secret';
const basic = `Basic ${Buffer.from('ongoing:wms-pass').toString('base64')}`;

let api: FakeHttpPeer;
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  api = await new FakeHttpPeer().start();
  api.on('/ongoing/api/v1/string', () => ({ status: 200, body: { fetchedThrough: 'path' } }));
  api.on(`/automation/orders/${AUTOMATION_EVENTS[0]!.orderId}`, () => ({ status: 200, body: { state: 'fetched' } }));
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
sources:
  - id: corpus-wms
    kind: ongoing-wms
    auth: { type: basic, username: ongoing, password: wms-pass }
    filter: { goodsOwners: [0] }
    followUp: { urls: { "*": "${api.url}/ongoing/api/v1/{+path}" } }
  - id: corpus-wms-other
    kind: ongoing-wms
    auth: { type: x-auth-token, token: corpus-token }
    filter: { goodsOwners: [162] }
  - id: corpus-erp
    kind: extend-commerce
    secret: ${EXTEND_SECRET}
    filter: { warehouses: [YX, ADR-1] }
  - id: corpus-erp-b1
    kind: extend-commerce
    secret: ${EXTEND_SECRET}
    filter: { warehouses: [B-1] }
  - id: corpus-esign
    kind: automation-api
    secret: ${ESIGN_SECRET}
    key: corpus-key
    followUp: { urls: { "*": "${api.url}/automation/orders/{orderId}" } }
`),
  );
  await createSubscription(h, {
    url: `${receiver.url}/hook`,
    secret: SUBSCRIBER_SECRET,
    signature: 'standard-webhooks',
    triggers: ['ongoing-wms.*', 'extend-commerce.*', 'automation-api.*'],
  });
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await api?.stop();
});

const result = (workflowId: string) =>
  h.client.workflow.getHandle(workflowId).result() as Promise<InboundWorkflowResult>;
const attributes = async (workflowId: string) =>
  (await h.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
const entityOf = (page: string, body: Record<string, unknown>) =>
  String(valueAt(body, ONGOING_FAMILIES.find((f) => f.page === page)!.entity[0]));

async function count(query: string): Promise<number> {
  return (await h.client.workflow.count(query)).count;
}

/** The deliveries at the receiver, by hookflow event id (`<source>/<key>`), once `expected` have arrived. */
async function deliveries(
  expected: number,
): Promise<Map<string, { request: RecordedRequest; body: Record<string, unknown> }>> {
  await eventually(async () => receiver.requestsTo('/hook').length >= expected, `${expected} deliveries`, 90_000);
  const byId = new Map<string, { request: RecordedRequest; body: Record<string, unknown> }>();
  for (const request of receiver.requestsTo('/hook'))
    byId.set(json(request).id as string, { request, body: json(request) });
  return byId;
}

test('every published payload: 202, one workflow each with its search attributes, filters, follow-up through path, delivered with every field untouched', async () => {
  // Send everything at once (in parallel), as the senders would.
  const ongoing = await Promise.all(
    ONGOING_EXAMPLES.map(async ({ page, body }) => {
      const text = JSON.stringify(body);
      const [accepted, other] = await Promise.all([
        post(h.app, '/webhooks/corpus-wms', text, { authorization: basic }),
        post(h.app, '/webhooks/corpus-wms-other', text, { 'x-auth-token': 'corpus-token' }),
      ]);
      return { page, body, accepted, other };
    }),
  );
  const extendText = JSON.stringify(extendEnvelope());
  const pick = (actions: string[]) => EXTEND_NOTIFICATIONS.filter((n) => actions.includes(n.Action));
  const b1Text = JSON.stringify(extendEnvelope(pick(['PickingStarted', 'PurchaseDelivered', 'CustomerCreated'])));
  const [extend, extendB1] = await Promise.all([
    post(h.app, '/webhooks/corpus-erp', extendText, { 'ms-signature': sign.ms(EXTEND_SECRET, extendText) }),
    post(h.app, '/webhooks/corpus-erp-b1', b1Text, { 'ms-signature': sign.ms(EXTEND_SECRET, b1Text) }),
  ]);
  const automation = await Promise.all(
    AUTOMATION_EVENTS.map(async (body) => {
      const text = JSON.stringify(body);
      return {
        body,
        res: await post(h.app, '/webhooks/corpus-esign?key=corpus-key', text, {
          'x-signature': sign.x(ESIGN_SECRET, text),
        }),
      };
    }),
  );

  // Accepted, one workflow per notification.
  for (const { accepted, other } of ongoing) {
    expect([accepted.statusCode, other.statusCode]).toEqual([202, 202]);
    expect(accepted.json().events).toHaveLength(1);
  }
  expect(extend.statusCode).toBe(202);
  expect(extend.json().events).toHaveLength(21);
  expect(extendB1.statusCode).toBe(202);
  for (const { res } of automation) expect(res.statusCode).toBe(202);
  const ongoingIds = ongoing.map((o) => o.accepted.json().events[0].workflowId as string);
  const extendIds = (extend.json().events as Array<{ workflowId: string }>).map((e) => e.workflowId);
  const automationIds = automation.map((a) => a.res.json().events[0].workflowId as string);
  expect(new Set([...ongoingIds, ...extendIds, ...automationIds]).size).toBe(12 + 21 + 7);

  // Ongoing: goods owner 0 passes corpus-wms, the follow-up is fetched through `path` where the family has one.
  await Promise.all(
    ongoing.map(async ({ page, body, other }, i) => {
      const outcome = await result(ongoingIds[i]!);
      expect(outcome.status).toBe('handed-off');
      expect(outcome.enriched?.event.payload).toEqual(body);
      expect(outcome.enriched?.followUp?.data).toEqual(
        typeof body.path === 'string' ? { fetchedThrough: 'path' } : undefined,
      );
      const sa = await attributes(ongoingIds[i]!);
      expect([sa.get(SA.eventType), sa.get(SA.entity), sa.get(SA.goodsOwner), sa.get(SA.source)]).toEqual([
        body.webhookTemplate,
        entityOf(page, body),
        0,
        'corpus-wms',
      ]);
      expect(await result(other.json().events[0].workflowId)).toEqual({
        status: 'filtered',
        reason: 'goods owner 0 is not in [162]',
      });
    }),
  );
  expect(api.requestsTo('/ongoing/api/v1/string')).toHaveLength(
    ONGOING_EXAMPLES.filter((e) => typeof e.body.path === 'string').length,
  );

  // Extend: entity per action; Details.Warehouse and Details.Order.Warehouse both filter.
  const extendOutcomes = await Promise.all(extendIds.map(result));
  const expectedExtend = new Map<string, string>();
  EXTEND_NOTIFICATIONS.forEach(({ Action, Details }, i) => {
    const holder = (Action === 'PickingStarted' ? Details.Order : Details) as Record<string, unknown>;
    const warehouse = holder.Warehouse as string | undefined;
    const passes = warehouse === undefined || ['YX', 'ADR-1'].includes(warehouse);
    expect(extendOutcomes[i]).toMatchObject(
      passes
        ? { status: 'handed-off' }
        : { status: 'filtered', reason: `warehouse ${warehouse} is not in [YX, ADR-1]` },
    );
    if (passes) expectedExtend.set(`corpus-erp/3b3fd4a6-36d5-46fe-8a3f-e73532529db3-${i}`, Action);
  });
  await Promise.all(
    EXTEND_NOTIFICATIONS.map(async ({ Action, Details }, i) => {
      const holder = (Action === 'PickingStarted' ? Details.Order : Details) as Record<string, unknown>;
      const sa = await attributes(extendIds[i]!);
      expect([sa.get(SA.eventType), sa.get(SA.entity), sa.get(SA.warehouse)]).toEqual([
        Action,
        String(holder[EXTEND_ENTITY[Action as ExtendAction]]),
        holder.Warehouse,
      ]);
    }),
  );
  const b1 = await Promise.all(
    (extendB1.json().events as Array<{ workflowId: string }>).map((e) => result(e.workflowId)),
  );
  // In list order: CustomerCreated (no warehouse: not warehouse-scoped), PickingStarted (Order.Warehouse ADR-1), PurchaseDelivered (B-1).
  expect(b1.map((o) => o.status)).toEqual(['handed-off', 'filtered', 'handed-off']);
  expect(b1[1]).toEqual({ status: 'filtered', reason: 'warehouse ADR-1 is not in [B-1]' });

  // Automation API: the full order fetched by orderId.
  for (const [i, { body }] of automation.entries()) {
    const outcome = await result(automationIds[i]!);
    expect(outcome.enriched?.followUp?.data).toEqual({ state: 'fetched' });
    expect((await attributes(automationIds[i]!)).get(SA.eventType)).toBe(body.eventType);
  }

  // Searchable: docs/sources.md's queries find each Ongoing family's events by entity.
  const byEntity = new Map<string, number>();
  for (const { page, body } of ongoing)
    byEntity.set(entityOf(page, body), (byEntity.get(entityOf(page, body)) ?? 0) + 1);
  for (const [entity, n] of byEntity) {
    await eventually(
      async () => (await count(`HookflowSource = 'corpus-wms' AND HookflowEntity = '${entity}'`)) === n,
      `${n} corpus-wms workflows with entity ${entity}`,
    );
  }

  // ... and each family's events by the webhook id field that starts their keys.
  for (const { idField } of ONGOING_FAMILIES) {
    await eventually(
      async () =>
        (await count(`HookflowSource = 'corpus-wms' AND WorkflowId STARTS_WITH 'inbound/corpus-wms/${idField}/'`)) ===
        1,
      `the ${idField} workflow by id prefix`,
    );
  }

  // Delivered: each body still carries every field of the original notification, with its value and type.
  const delivered = await deliveries(12 + expectedExtend.size + 2 + 7);
  for (const [i, { body }] of ongoing.entries()) {
    const key = ongoingIds[i]!.replace(/^inbound\//, '');
    const got = delivered.get(key);
    expect(got).toBeDefined();
    expect(verify.standard(SUBSCRIBER_SECRET, got!.request)).toBe(true);
    expect(got!.body).toMatchObject({ type: `ongoing-wms.${String(body.webhookTemplate)}`, goodsOwnerId: 0 });
    expect(got!.body.data).toEqual(body);
  }
  for (const [key, Action] of expectedExtend) {
    const original = EXTEND_NOTIFICATIONS.find((n) => n.Action === Action)!;
    expect(delivered.get(key)?.body.data).toEqual({
      Id: '6e249eebb818463086ae0dda6eeba7b2',
      Attempt: 1,
      NotificationId: '3b3fd4a6-36d5-46fe-8a3f-e73532529db3',
      Action,
      Details: original.Details,
    });
  }
  for (const [i, { body }] of automation.entries()) {
    const got = delivered.get(automationIds[i]!.replace(/^inbound\//, ''));
    expect(got?.body.data).toEqual(body);
    expect(got?.body.followUp).toEqual({ state: 'fetched' });
  }
}, 180_000);

test('a sample through the HTTP route: extra fields of any JSON type, anywhere, are still a 202 with the same key', async () => {
  const samples = ONGOING_EXAMPLES.map(({ body }) => body);
  const extra = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).map((k) => `extra ${k}`),
    fc.jsonValue({ maxDepth: 3 }),
    { minKeys: 1, maxKeys: 3 },
  );
  await fc.assert(
    fc.asyncProperty(fc.nat(samples.length - 1), extra, extra, async (index, top, nested) => {
      const body = structuredClone(samples[index]!) as Record<string, unknown>;
      const inner = Object.values(body).find((v) => v !== null && typeof v === 'object' && !Array.isArray(v)) as
        Record<string, unknown> | undefined;
      Object.assign(body, top);
      if (inner) Object.assign(inner, nested);
      const res = await post(h.app, '/webhooks/corpus-wms-other', JSON.stringify(body), {
        'x-auth-token': 'corpus-token',
      });
      expect(res.statusCode).toBe(202);
      expect(res.json().events[0].eventKey).toMatch(/^webhook[A-Za-z]+Id\/0\/0$/);
    }),
    { numRuns: 15 },
  );
});
