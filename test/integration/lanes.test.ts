import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { LANE_MEMO, laneWorkflowId } from '../../src/shared/lane';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription, json, publish } from '../support/outbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';

// A lane held by a head that always fails is listed by the API and moved on by skip-head. Retries are
// fast (every second at most) within a 10 min window: without the skip, events 2 and 3 would wait for it.
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
delivery:
  oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT10M }
  ordering: { settle: PT1S, idle: PT30S }
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

interface LaneRow {
  entity: string;
  laneId: string;
  head: string | null;
  headSince: string | null;
  headAttempts: number | null;
  headLastHttpStatus: number | null;
  waitingCount: number;
  waiting: string[];
}

test('a lane held by an always-failing head is listed; skip-head moves it on, the head ends skipped and stays retryable', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/lanes/${run}`;
  const x = `SO-${run}-X`;
  let headHealed = false;
  const seen: Array<{ entity: string; seq: number; status: number }> = [];
  receiver.on(path, (request) => {
    const body = json(request) as { entity: string; data: { seq: number } };
    const status = body.entity === x && body.data.seq === 1 && !headHealed ? 500 : 200;
    seen.push({ entity: body.entity, seq: body.data.seq, status });
    return { status };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['lane.*'],
    signature: 'x-signature',
    ordering: 'entity',
  });
  for (const seq of [1, 2, 3])
    await publish(h, { type: 'lane.OrderChanged', entity: x, data: { seq }, idempotencyKey: `${run}-X-${seq}` });
  await publish(h, {
    type: 'lane.OrderChanged',
    entity: `SO-${run}-Y`,
    data: { seq: 1 },
    idempotencyKey: `${run}-Y-1`,
  });

  const head = deliveryWorkflowId(`api/${run}-X-1`, sub);
  const laneId = laneWorkflowId(sub, x);
  // Listed as held: head = event 1, failing, two waiting behind it.
  const lane = await eventually(
    async () => {
      const res = await adminApi(h, 'GET', `/api/subscriptions/${sub}/lanes`);
      expect(res.statusCode).toBe(200);
      const row = (res.json().lanes as LaneRow[]).find((l) => l.entity === x);
      return row &&
        row.head === head &&
        row.waitingCount === 2 &&
        (row.headAttempts ?? 0) >= 2 &&
        row.headLastHttpStatus === 500
        ? row
        : undefined;
    },
    'the held lane to be listed with its head failing',
    60_000,
  );
  expect(lane).toMatchObject({ laneId, head, headLastHttpStatus: 500 });
  expect(lane.waiting).toEqual([2, 3].map((seq) => deliveryWorkflowId(`api/${run}-X-${seq}`, sub)));
  expect(Date.parse(lane.headSince!)).toBeLessThanOrEqual(Date.now());
  // Entity Y is not held by X's head.
  await eventually(async () => seen.some((s) => s.entity === `SO-${run}-Y` && s.status === 200), 'entity Y');
  expect(seen.filter((s) => s.entity === x && s.seq !== 1)).toEqual([]);

  const unknown = await adminApi(h, 'POST', `/api/subscriptions/${sub}/lanes/no-such-entity/skip-head`);
  expect(unknown.statusCode).toBe(404);
  const skip = await adminApi(h, 'POST', `/api/subscriptions/${sub}/lanes/${encodeURIComponent(x)}/skip-head`, {
    reason: 'receiver rejects this order for good',
  });
  expect(skip.statusCode).toBe(202);
  expect(skip.json()).toEqual({ laneId, delivery: head });

  // Events 2 and 3 arrive, in order, after every attempt of event 1.
  await eventually(
    async () => seen.filter((s) => s.entity === x && s.status === 200).length >= 2,
    'events 2 and 3 after the skip',
    30_000,
  );
  const mine = seen.filter((s) => s.entity === x);
  const firstLater = mine.findIndex((s) => s.seq !== 1);
  expect(mine.slice(firstLater)).toEqual([
    { entity: x, seq: 2, status: 200 },
    { entity: x, seq: 3, status: 200 },
  ]);
  expect(mine.slice(0, firstLater).every((s) => s.seq === 1 && s.status === 500)).toBe(true);

  // Event 1's delivery ended skipped (Cancelled), visible through the API, and the lane counts it.
  const skipped = await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(head)}`);
    return res.json().workflowStatus === 'CANCELLED' ? res.json() : undefined;
  }, 'the head delivery to end');
  expect(skipped).toMatchObject({ status: 'skipped' });
  const described = await h.client.workflow.getHandle(head).describe();
  expect(described.typedSearchAttributes.get(SA.status)).toBe('skipped');
  const memo = await eventually(async () => {
    const m = (await h.client.workflow.getHandle(laneId).describe()).memo?.[LANE_MEMO] as
      { delivered: number; skipped: number; lastSkip?: { delivery: string; reason: string } } | undefined;
    return m && m.delivered === 2 ? m : undefined;
  }, 'the lane to count its deliveries');
  expect(memo).toMatchObject({
    skipped: 1,
    lastSkip: { delivery: head, reason: 'receiver rejects this order for good' },
  });
  await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/subscriptions/${sub}/lanes`);
    return !(res.json().lanes as LaneRow[]).some((l) => l.entity === x);
  }, 'the lane to be no longer listed');
  // Skipping again finds no head.
  const again = await adminApi(h, 'POST', `/api/subscriptions/${sub}/lanes/${encodeURIComponent(x)}/skip-head`);
  expect(again.statusCode).toBe(409);

  // Still retryable: once the receiver takes it, the retried delivery gets through.
  headHealed = true;
  const retry = await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(head)}/retry`);
  expect(retry.statusCode).toBe(202);
  await eventually(async () => seen.some((s) => s.entity === x && s.seq === 1 && s.status === 200), 'the retried head');
});
