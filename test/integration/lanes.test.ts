import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { LANE_MEMO, laneWorkflowId } from '../../src/shared/lane';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription, json, publish } from '../support/outbound';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { consoleSession, csrfOf, FORM } from '../support/console-session';

// A lane held by a head that always fails is listed (API, console) and moved on by skip-head. Retries are
// fast (every second at most) within a 10 min window: without the skip, events 2 and 3 would wait for it.
const execFileAsync = promisify(execFile);
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
type Seen = Array<{ entity: string; seq: number; status: number }>;

/**
 * An ordered subscription (events `<kind>.*`) whose receiver refuses entity X's event 1 (500) until
 * healed and takes everything else; events 1, 2, 3 of X and one of Y published in that order.
 */
async function heldLane(kind: string) {
  const run = randomUUID().slice(0, 8);
  const path = `/lanes/${run}`;
  const x = `SO-${run}-X`;
  const y = `SO-${run}-Y`;
  const state = { healed: false };
  const seen: Seen = [];
  receiver.on(path, (request) => {
    const body = json(request) as { entity: string; data: { seq: number } };
    const status = body.entity === x && body.data.seq === 1 && !state.healed ? 500 : 200;
    seen.push({ entity: body.entity, seq: body.data.seq, status });
    return { status };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: [`${kind}.*`],
    signature: 'x-signature',
    ordering: 'entity',
  });
  const type = `${kind}.OrderChanged`;
  for (const seq of [1, 2, 3]) await publish(h, { type, entity: x, data: { seq }, idempotencyKey: `${run}-X-${seq}` });
  await publish(h, { type, entity: y, data: { seq: 1 }, idempotencyKey: `${run}-Y-1` });
  const event = (seq: number) => deliveryWorkflowId(`api/${run}-X-${seq}`, sub);
  return { x, y, sub, seen, state, event, head: event(1), laneId: laneWorkflowId(sub, x) };
}

/** The API lists X's lane held by event 1, failing (500, retried), with events 2 and 3 waiting. */
async function listedAsHeld(sub: string, x: string, head: string) {
  return eventually(
    async () => {
      const res = await adminApi(h, 'GET', `/api/subscriptions/${sub}/lanes`);
      expect(res.statusCode).toBe(200);
      const row = (res.json().lanes as LaneRow[]).find((l) => l.entity === x);
      const failing = (row?.headAttempts ?? 0) >= 2 && row?.headLastHttpStatus === 500;
      return row && row.head === head && row.waitingCount === 2 && failing ? row : undefined;
    },
    'the held lane to be listed with its head failing',
    60_000,
  );
}

/** X's attempts: every one of event 1 (refused), then 2 and 3 delivered, in that order. */
async function expectMovedOn(seen: Seen, x: string) {
  await eventually(
    async () => seen.filter((s) => s.entity === x && s.status === 200).length >= 2,
    'events 2 and 3 after the skip',
    30_000,
  );
  const mine = seen.filter((s) => s.entity === x);
  const firstLater = mine.findIndex((s) => s.seq !== 1);
  expect(firstLater).toBeGreaterThan(0);
  expect(mine.slice(firstLater)).toEqual([
    { entity: x, seq: 2, status: 200 },
    { entity: x, seq: 3, status: 200 },
  ]);
  expect(mine.slice(0, firstLater).every((s) => s.seq === 1 && s.status === 500)).toBe(true);
}

/** The head delivery ended Cancelled with status `skipped`, through the API and on the workflow. */
async function expectSkipped(head: string) {
  const skipped = await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(head)}`);
    return res.json().workflowStatus === 'CANCELLED' ? res.json() : undefined;
  }, 'the head delivery to end');
  expect(skipped).toMatchObject({ status: 'skipped' });
  const described = await h.client.workflow.getHandle(head).describe();
  expect(described.typedSearchAttributes.get(SA.status)).toBe('skipped');
}

test('a lane held by an always-failing head is listed; skip-head moves it on, the head ends skipped and stays retryable', async () => {
  const { x, y, sub, seen, state, event, head, laneId } = await heldLane('laneapi');
  const lane = await listedAsHeld(sub, x, head);
  expect(lane).toMatchObject({ laneId, head, headLastHttpStatus: 500 });
  expect(lane.waiting).toEqual([event(2), event(3)]);
  expect(Date.parse(lane.headSince!)).toBeLessThanOrEqual(Date.now());
  // Entity Y is not held by X's head; X's later events are.
  await eventually(async () => seen.some((s) => s.entity === y && s.status === 200), 'entity Y');
  expect(seen.filter((s) => s.entity === x && s.seq !== 1)).toEqual([]);

  const unknown = await adminApi(h, 'POST', `/api/subscriptions/${sub}/lanes/no-such-entity/skip-head`);
  expect(unknown.statusCode).toBe(404);
  const skip = await adminApi(h, 'POST', `/api/subscriptions/${sub}/lanes/${encodeURIComponent(x)}/skip-head`, {
    reason: 'receiver rejects this order for good',
  });
  expect(skip.statusCode).toBe(202);
  expect(skip.json()).toEqual({ laneId, delivery: head });

  await expectMovedOn(seen, x);
  await expectSkipped(head);
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
  state.healed = true;
  const retry = await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(head)}/retry`);
  expect(retry.statusCode).toBe(202);
  await eventually(async () => seen.some((s) => s.entity === x && s.seq === 1 && s.status === 200), 'the retried head');
});

test("the console's Lanes page lists the held lane; its Skip head button (CSRF-protected) moves it on", async () => {
  const { cookie, keep, get } = consoleSession(() => h.app);
  const post = (url: string, fields: Record<string, string>) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { ...FORM, cookie: cookie() },
      payload: new URLSearchParams(fields).toString(),
    });
  const login = await get('/console/login');
  keep((await post('/console/login', { token: ADMIN_TOKEN, _csrf: csrfOf(login.body) })).headers['set-cookie']);

  const { x, sub, seen, head } = await heldLane('laneconsole');
  await listedAsHeld(sub, x, head);
  const deliveries = await get(`/console/subscriptions/${sub}/deliveries`);
  expect(deliveries.body).toContain(`href="/console/subscriptions/${sub}/lanes"`);
  const page = await get(`/console/subscriptions/${sub}/lanes`);
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain(x);
  expect(page.body).toContain(`name="delivery" value="${head}"`);
  expect(page.body).toContain('Skip head');

  const action = `/console/subscriptions/${sub}/lanes/skip-head`;
  // Without the page's CSRF token: refused, nothing skipped.
  expect((await post(action, { entity: x, delivery: head })).statusCode).toBe(403);
  // A head the operator did not see (the lane has moved on): refused.
  expect((await post(action, { entity: x, delivery: `${head}-other`, _csrf: csrfOf(page.body) })).statusCode).toBe(409);
  const skip = await post(action, { entity: x, delivery: head, _csrf: csrfOf(page.body) });
  expect(skip.statusCode).toBe(303);
  expect(skip.headers.location).toBe(
    `${action.replace('/skip-head', '')}?done=${encodeURIComponent(`Skipped ${head}.`)}`,
  );
  expect((await get(skip.headers.location as string)).body).toContain(`Skipped ${head}.`);

  await expectMovedOn(seen, x);
  await expectSkipped(head);
});

test('the documented `temporal workflow signal ... --name skipHead` moves the lane on as well', async () => {
  const { x, sub, seen, head, laneId } = await heldLane('lanecli');
  await listedAsHeld(sub, x, head);
  const signal = (delivery: string) =>
    execFileAsync(process.env.TEMPORAL_CLI!, [
      'workflow',
      'signal',
      '--address',
      h.config.temporal.address,
      '--namespace',
      h.config.temporal.namespace,
      '--workflow-id',
      laneId,
      '--name',
      'skipHead',
      '--input',
      JSON.stringify({ delivery, reason: 'rejected by the receiver' }),
    ]);
  await signal(head);
  await expectMovedOn(seen, x);
  await expectSkipped(head);
  const memo = (await h.client.workflow.getHandle(laneId).describe()).memo?.[LANE_MEMO];
  expect(memo).toMatchObject({ skipped: 1, lastSkip: { delivery: head, reason: 'rejected by the receiver' } });
});
