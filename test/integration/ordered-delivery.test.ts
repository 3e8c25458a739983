import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import type { InboundWorkflowResult } from '../../src/shared/inbound';
import { LANE_MEMO, laneStateQuery, laneWorkflowId } from '../../src/shared/lane';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer, type RecordedRequest } from '../support/fake-http';
import { adminApi, createSubscription, json, publish } from '../support/outbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { seededRandom } from '../support/seeded-random';
import { extendBody, post, sign } from '../support/webhooks';

// `ordering: entity`. A real receiver on loopback, the real worker on a dev server; retries
// fast (0.2 s), lanes settle 1 s and end after 2 s idle so the test also sees lanes end and start again.
let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer().start();
  h = await startHarness(
    testConfig(`
delivery:
  oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT2M }
  ordering: { settle: PT1S, idle: PT2S }
sources:
  - id: erp
    kind: extend-commerce
    secret: extend-secret
    followUp: { urls: { OrderCreated: "${sourceApi.url}/orders/{OrderNumber}" } }
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await sourceApi?.stop();
});

const ENTITIES = 20;
const PER_ENTITY = 10;

interface Seen {
  eventId: string;
  entity: string;
  seq: number;
  ok: boolean;
}

test('200 events over 20 entities, a third failing their first attempt: each entity in order, none lost, none twice', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/ordered/${run}`;
  const failFirst = new Set<string>();
  const tried = new Set<string>();
  const seen: Seen[] = [];
  receiver.on(path, (request: RecordedRequest) => {
    const body = json(request) as { id: string; entity: string; data: { seq: number } };
    const first = !tried.has(body.id);
    tried.add(body.id);
    const ok = !(first && failFirst.has(body.id));
    seen.push({ eventId: body.id, entity: body.entity, seq: body.data.seq, ok });
    return { status: ok ? 200 : 503 };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    secret: 'ordered-secret',
    triggers: ['ordered.*'],
    signature: 'x-signature',
    ordering: 'entity',
  });
  expect((await adminApi(h, 'GET', `/api/subscriptions/${sub}`)).json()).toMatchObject({ ordering: 'entity' });

  const entity = (e: number) => `SO-${run}-${e}`;
  const key = (e: number, seq: number) => `${run}-${e}-${seq}`;
  const random = seededRandom('ordered delivery, failing first attempts');
  for (let e = 0; e < ENTITIES; e++)
    for (let seq = 0; seq < PER_ENTITY; seq++) if (random() < 1 / 3) failFirst.add(`api/${key(e, seq)}`);
  // Per entity one after the other (the acceptance order), the entities concurrently.
  for (let seq = 0; seq < PER_ENTITY; seq++) {
    await Promise.all(
      Array.from({ length: ENTITIES }, (_, e) =>
        publish(h, {
          type: seq === 0 ? 'ordered.OrderCreated' : 'ordered.OrderChanged',
          entity: entity(e),
          data: { seq },
          idempotencyKey: key(e, seq),
        }),
      ),
    );
  }

  const total = ENTITIES * PER_ENTITY;
  await eventually(async () => seen.filter((s) => s.ok).length >= total, `${total} deliveries`, 180_000);

  for (let e = 0; e < ENTITIES; e++) {
    const mine = seen.filter((s) => s.entity === entity(e));
    // Every attempt, failed or not, in acceptance order: nothing was tried before its predecessor was delivered.
    const attempts = mine.map((s) => s.seq);
    expect(attempts).toEqual([...attempts].sort((a, b) => a - b));
    // Delivered exactly once each, in order.
    expect(mine.filter((s) => s.ok).map((s) => s.seq)).toEqual(Array.from({ length: PER_ENTITY }, (_, i) => i));
    // The failures were real: each event that failed its first attempt was tried exactly twice.
    for (const s of mine.filter((x) => !x.ok)) expect(mine.filter((x) => x.eventId === s.eventId)).toHaveLength(2);
  }
  expect(seen.filter((s) => !s.ok).length).toBe(failFirst.size);
  expect(failFirst.size).toBeGreaterThan(0);

  // Visible: the lane's id, and the HookflowLane search attribute on its deliveries.
  const laneId = laneWorkflowId(sub, entity(0));
  const delivery = await h.client.workflow.getHandle(deliveryWorkflowId(`api/${key(0, 3)}`, sub)).describe();
  expect(delivery.typedSearchAttributes.get(SA.lane)).toBe(laneId);
  expect(delivery.typedSearchAttributes.get(SA.entity)).toBe(entity(0));
  const lane = await h.client.workflow.getHandle(laneId).describe();
  expect(lane.type).toBe('laneWorkflow');
  expect(lane.typedSearchAttributes.get(SA.subscription)).toBe(sub);

  // Idle lanes end (after 2 s here); the next event starts the lane again and is delivered.
  const first = await eventually(
    async () => {
      const d = await h.client.workflow.getHandle(laneId).describe();
      return d.status.name === 'COMPLETED' ? d : undefined;
    },
    'the idle lane to end',
    30_000,
  );
  expect(first.memo?.[LANE_MEMO]).toMatchObject({ delivered: PER_ENTITY, failed: 0, waitingCount: 0 });
  await publish(h, {
    type: 'ordered.OrderChanged',
    entity: entity(0),
    data: { seq: PER_ENTITY },
    idempotencyKey: key(0, PER_ENTITY),
  });
  await eventually(
    async () => seen.some((s) => s.ok && s.seq === PER_ENTITY && s.entity === entity(0)),
    'the event after the lane ended',
  );
  const again = h.client.workflow.getHandle(laneId);
  expect((await again.describe()).runId).not.toBe(first.runId);
  await eventually(
    async () => (await again.query(laneStateQuery)).delivered === 1,
    'the new lane run to count its delivery',
  );
});

test('a delivery that finally fails holds its lane only until it fails; other entities keep flowing', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/ordered-fail/${run}`;
  const seen: Array<{ entity: string; seq: number; status: number }> = [];
  receiver.on(path, (request) => {
    const body = json(request) as { entity: string; data: { seq: number } };
    // Entity A's first event is refused for good (400: not retried); everything else is taken.
    const status = body.entity.endsWith('-A') && body.data.seq === 0 ? 400 : 200;
    seen.push({ entity: body.entity, seq: body.data.seq, status });
    return { status };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['held.*'],
    signature: 'x-signature',
    ordering: 'entity',
  });
  for (const seq of [0, 1, 2]) {
    await Promise.all(
      ['A', 'B'].map((e) =>
        publish(h, {
          type: 'held.OrderChanged',
          entity: `${run}-${e}`,
          data: { seq },
          idempotencyKey: `${run}-${e}-${seq}`,
        }),
      ),
    );
  }
  await eventually(async () => seen.filter((s) => s.status === 200).length >= 5, 'the five deliverable events', 60_000);
  expect(seen.filter((s) => s.entity === `${run}-A`).map((s) => [s.seq, s.status])).toEqual([
    [0, 400],
    [1, 200],
    [2, 200],
  ]);
  expect(seen.filter((s) => s.entity === `${run}-B`).map((s) => s.seq)).toEqual([0, 1, 2]);
  const failed = await h.client.workflow.getHandle(deliveryWorkflowId(`api/${run}-A-0`, sub)).describe();
  expect(failed.status.name).toBe('FAILED');
  // The receiver has answered the last one; the lane counts it once that delivery workflow has completed.
  const lane = h.client.workflow.getHandle(laneWorkflowId(sub, `${run}-A`));
  const laneState = await eventually(async () => {
    const state = await lane.query(laneStateQuery);
    return state.delivered + state.failed >= 3 ? state : undefined;
  }, 'the lane to count its three deliveries');
  expect(laneState).toMatchObject({ delivered: 2, failed: 1, waiting: [] });
});

test('an earlier event still being enriched (follow-up retried for seconds) goes before a later one that was ready at once', async () => {
  const run = randomUUID().slice(0, 8);
  const order = `SO-${run}`;
  let fetches = 0;
  // OrderCreated's follow-up fails twice (retried after 1 s and 2 s): its inbound workflow hands off ~3 s
  // after it was accepted, long after the 1 s settle time of the OrderPicked accepted just after it.
  sourceApi.on(`/orders/${order}`, () => (++fetches <= 2 ? { status: 503 } : { status: 200, body: { order } }));
  const path = `/ordered-slow/${run}`;
  const got: string[] = [];
  receiver.on(path, (request) => {
    got.push((json(request) as { type: string }).type);
    return { status: 200 };
  });
  await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['extend-commerce.OrderCreated', 'extend-commerce.OrderPicked'],
    signature: 'x-signature',
    ordering: 'entity',
  });
  for (const action of ['OrderCreated', 'OrderPicked']) {
    const body = JSON.stringify(extendBody([{ Action: action, Details: { OrderNumber: order } }]));
    expect(
      (await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms('extend-secret', body) })).statusCode,
    ).toBe(202);
  }
  await eventually(async () => got.length >= 2, 'both deliveries', 60_000);
  expect(got).toEqual(['extend-commerce.OrderCreated', 'extend-commerce.OrderPicked']);
  expect(fetches).toBe(3);
});

test('events without an entity are delivered directly (no lane)', async () => {
  const path = `/ordered-none/${randomUUID()}`;
  let calls = 0;
  receiver.on(path, () => (++calls, { status: 200 }));
  const sub = await createSubscription(h, { url: `${receiver.url}${path}`, triggers: ['plain.*'], ordering: 'entity' });
  const { eventId, workflowId } = await publish(h, { type: 'plain.Ping', data: {} });
  const inbound = (await h.client.workflow.getHandle(workflowId).result()) as InboundWorkflowResult;
  expect(inbound.deliveries).toContainEqual({ subscriptionId: sub, workflowId: deliveryWorkflowId(eventId, sub) });
  const delivery = h.client.workflow.getHandle(deliveryWorkflowId(eventId, sub));
  expect(await delivery.result()).toMatchObject({ status: 'delivered' });
  expect(calls).toBe(1);
  // No lane: the planning activity started the delivery itself; a lane's delivery is the lane's child.
  const described = await delivery.describe();
  expect(described.parentExecution).toBeUndefined();
  expect(described.typedSearchAttributes.get(SA.lane)).toBeUndefined();
});

describe('lanes that end and start all the time (idle 0.1 s): events enqueued while a lane completes are not lost', () => {
  let fast: Harness;
  beforeAll(async () => {
    fast = await startHarness(
      testConfig(
        `delivery: { oneDay: { initialInterval: PT0.2S, maximumInterval: PT1S, window: PT1M }, ordering: { settle: PT1S, idle: PT0.1S } }`,
      ),
    );
  });
  afterAll(async () => {
    await fast?.stop();
  });

  test('30 events over 3 entities, trickled so that many arrive as their lane ends', async () => {
    const run = randomUUID().slice(0, 8);
    const path = `/ordered-race/${run}`;
    const seen: Array<{ id: string; entity: string; seq: number }> = [];
    receiver.on(path, (request) => {
      const body = json(request) as { id: string; entity: string; data: { seq: number } };
      seen.push({ id: body.id, entity: body.entity, seq: body.data.seq });
      return { status: 200 };
    });
    const sub = await createSubscription(fast, {
      url: `${receiver.url}${path}`,
      triggers: ['race.*'],
      signature: 'x-signature',
      ordering: 'entity',
    });
    const entities = ['X', 'Y', 'Z'].map((e) => `${run}-${e}`);
    const random = seededRandom('ordered delivery, trickle spacing');
    // Spaced around a delivery's duration plus the idle time, so events often reach a lane as it ends.
    for (let seq = 0; seq < 10; seq++) {
      await Promise.all(
        entities.map((entity) =>
          publish(fast, { type: 'race.Changed', entity, data: { seq }, idempotencyKey: `${entity}-${seq}` }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_200 + Math.floor(random() * 1_500)));
      if (seq === 4) {
        // Halfway, every lane has ended at least once (however slow the machine): the rest start them anew.
        await eventually(
          async () => {
            const states = await Promise.all(
              entities.map(
                async (entity) =>
                  (await fast.client.workflow.getHandle(laneWorkflowId(sub, entity)).describe()).status.name,
              ),
            );
            return states.every((state) => state === 'COMPLETED');
          },
          'the lanes to end',
          60_000,
        );
      }
    }
    await eventually(async () => seen.length >= 30, 'the 30 deliveries', 120_000);
    for (const entity of entities)
      expect(seen.filter((s) => s.entity === entity).map((s) => s.seq)).toEqual(
        Array.from({ length: 10 }, (_, i) => i),
      );
    expect(new Set(seen.map((s) => s.id)).size).toBe(30);
    // The lanes did end and start again (at least two runs per lane).
    const { count } = await fast.client.workflow.count(
      `WorkflowType = 'laneWorkflow' AND HookflowSubscription = '${sub}'`,
    );
    expect(count).toBeGreaterThanOrEqual(6);
  });
});
