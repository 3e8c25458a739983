import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import {
  REPLAY_MEMO,
  replayDeliveryId,
  replayProgressQuery,
  replayWorkflowId,
  type ReplayProgress,
} from '../../src/shared/replay';
import { SA } from '../../src/shared/search-attributes';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription, json, publish } from '../support/outbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';

// Replay of a time range, through the API and through the temporal CLI.
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(
      `delivery: { oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT1M } }`,
    ),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('50 events, a replay of the 20 accepted in a window: exactly those 20 redelivered, once, though requested twice', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/replay/${run}`;
  const received: string[] = [];
  receiver.on(path, (request) => {
    received.push((json(request) as { id: string }).id);
    return { status: 200 };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['rp.*'],
    signature: 'x-signature',
  });

  const batch = async (name: string, n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push(
        (
          await publish(h, {
            type: i % 2 ? 'rp.OrderPaid' : 'rp.OrderCreated',
            data: { i },
            idempotencyKey: `${run}-${name}-${i}`,
          })
        ).eventId,
      );
    return ids;
  };
  // The window [from, to) holds batch B only: a second of quiet on each side of it.
  await batch('a', 15);
  await pause(1_000);
  const from = new Date().toISOString();
  const inWindow = await batch('b', 20);
  const to = new Date().toISOString();
  await pause(1_000);
  await batch('c', 15);

  await eventually(async () => received.length >= 50, 'the 50 original deliveries', 60_000);
  // Replay reads visibility: wait until it lists all 50 as handed off.
  await eventually(async () => {
    const { count } = await h.client.workflow.count(
      `WorkflowType = 'inboundWorkflow' AND TaskQueue = '${h.config.temporal.taskQueue}' AND HookflowStatus = 'handed-off' AND WorkflowId STARTS_WITH 'inbound/api/${run}-'`,
    );
    return count === 50;
  }, 'visibility to list the 50 events');

  const body = { from, to };
  const [one, two] = await Promise.all([
    adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, body),
    adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, body),
  ]);
  expect([one.statusCode, two.statusCode].sort()).toEqual([200, 202]);
  expect(one.json().workflowId).toBe(two.json().workflowId);
  expect([one.json().duplicate, two.json().duplicate].sort()).toEqual([false, true]);
  const { replayId, workflowId } = one.json() as { replayId: string; workflowId: string };
  expect(workflowId).toBe(replayWorkflowId(sub, replayId));

  const handle = h.client.workflow.getHandle(workflowId);
  const progress: ReplayProgress = await handle.result();
  expect(progress).toMatchObject({ scanned: 20, matched: 20, started: 20, existing: 0, done: true });
  // The same request after it finished is still the same replay.
  const three = await adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, body);
  expect(three.statusCode).toBe(200);
  expect(three.json()).toMatchObject({ replayId, duplicate: true });

  // Every replayed delivery has finished: then count what the receiver got.
  await Promise.all(
    inWindow.map((eventId) => h.client.workflow.getHandle(replayDeliveryId(sub, replayId, eventId)).result()),
  );
  const counts = new Map<string, number>();
  for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect(received).toHaveLength(70);
  for (const [id, n] of counts) expect([id, n]).toEqual([id, inWindow.includes(id) ? 2 : 1]);
  expect(counts.size).toBe(50);

  // Progress is visible: the query, the memo and search attributes of the replay workflow.
  expect(await handle.query(replayProgressQuery)).toMatchObject({ started: 20, done: true });
  const described = await handle.describe();
  expect(described.memo?.[REPLAY_MEMO]).toMatchObject({ subscriptionId: sub, from, to, matched: 20, done: true });
  expect(described.typedSearchAttributes.get(SA.status)).toBe('done');
  const replayed = await h.client.workflow.getHandle(replayDeliveryId(sub, replayId, inWindow[0]!)).describe();
  expect(replayed.typedSearchAttributes.get(SA.subscription)).toBe(sub);
  // The original delivery is untouched.
  expect((await h.client.workflow.getHandle(deliveryWorkflowId(inWindow[0]!, sub)).describe()).status.name).toBe(
    'COMPLETED',
  );

  // Only some types: the current triggers and `types` decide (10 of the 20 are rp.OrderPaid).
  const typed = await adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, {
    ...body,
    types: ['rp.OrderPaid'],
    replayId: `${run}-paid`,
  });
  expect(typed.statusCode).toBe(202);
  expect(await h.client.workflow.getHandle(typed.json().workflowId).result()).toMatchObject({
    scanned: 20,
    matched: 10,
    started: 10,
  });
  // The same replayId with other types is refused; with the same ones it is the same replay.
  expect(
    (
      await adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, {
        ...body,
        types: ['rp.OrderCreated'],
        replayId: `${run}-paid`,
      })
    ).statusCode,
  ).toBe(409);
  expect(
    (
      await adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, {
        ...body,
        types: ['rp.OrderPaid'],
        replayId: `${run}-paid`,
      })
    ).json(),
  ).toMatchObject({ duplicate: true });

  // The CLI command of docs/beyond-delivery.md: `temporal workflow start` of the replay workflow with its input.
  const input = JSON.stringify({ subscriptionId: sub, replayId: 'cli-1', from, to, types: ['rp.OrderCreated'] });
  await promisify(execFile)(process.env.TEMPORAL_CLI!, [
    'workflow',
    'start',
    '--address',
    h.config.temporal.address,
    '--namespace',
    h.config.temporal.namespace,
    '--type',
    'replayWorkflow',
    '--task-queue',
    h.config.temporal.taskQueue,
    '--workflow-id',
    replayWorkflowId(sub, 'cli-1'),
    '--id-reuse-policy',
    'RejectDuplicate',
    '--input',
    input,
  ]);
  expect(await h.client.workflow.getHandle(replayWorkflowId(sub, 'cli-1')).result()).toMatchObject({
    matched: 10,
    started: 10,
    done: true,
  });
});

test('a replay applies the content filter as fan-out does: what it does not take is skipped, a failure is recorded', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/replay-filtered/${run}`;
  const received: number[] = [];
  receiver.on(path, (request) => {
    received.push((json(request) as { data: { i: number } }).data.i);
    return { status: 200 };
  });
  // Takes i >= 5; fails on i = 0 (a number plus a string).
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['rpf.*'],
    signature: 'x-signature',
    filterExpression: 'data.i = 0 ? data.i + "x" : data.i >= 5',
  });
  const from = new Date().toISOString();
  for (let i = 0; i < 8; i++) await publish(h, { type: 'rpf.OrderPaid', data: { i }, idempotencyKey: `${run}-${i}` });
  const to = new Date(Date.now() + 1).toISOString();
  await eventually(async () => received.length >= 3, 'the 3 original deliveries');
  await eventually(
    async () =>
      (
        await h.client.workflow.count(
          `WorkflowType = 'inboundWorkflow' AND HookflowStatus = 'handed-off' AND WorkflowId STARTS_WITH 'inbound/api/${run}-'`,
        )
      ).count === 8,
    'visibility to list the 8 events',
  );

  const replay = await adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, { from, to, replayId: `${run}-f` });
  expect(replay.statusCode).toBe(202);
  const progress: ReplayProgress = await h.client.workflow.getHandle(replay.json().workflowId).result();
  // Three taken and one recorded as failed: four deliveries; four events skipped.
  expect(progress).toMatchObject({ scanned: 8, matched: 4, started: 4, done: true });
  await eventually(async () => received.length >= 6, 'the 3 replayed deliveries');
  expect(received.sort()).toEqual([5, 5, 6, 6, 7, 7]);
  const failed = (await publish(h, { type: 'rpf.OrderPaid', data: { i: 0 }, idempotencyKey: `${run}-0` })).eventId;
  const record = await h.client.workflow.getHandle(replayDeliveryId(sub, `${run}-f`, failed)).result();
  expect(record).toMatchObject({ status: 'filtered-error', reason: expect.stringMatching(/^T200[12] /) });
});

test('bad replay requests get 400, an unknown subscription 404', async () => {
  const sub = await createSubscription(h, { url: `${receiver.url}/replay-bad`, triggers: ['rp.*'] });
  const post = (body: unknown, id = sub) => adminApi(h, 'POST', `/api/subscriptions/${id}/replay`, body);
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const body of [
    {},
    { from: iso(now) },
    { from: 'yesterday', to: iso(now) },
    { from: iso(now), to: iso(now - 1000) },
    { from: iso(now - 40 * 86_400_000), to: iso(now) },
    { from: iso(now - 1000), to: iso(now), types: [] },
    { from: iso(now - 1000), to: iso(now), types: ['not a type'] },
    { from: iso(now - 1000), to: iso(now), replayId: 'has space' },
    { from: iso(now - 1000), to: iso(now), extra: 1 },
  ]) {
    const res = await post(body);
    expect([JSON.stringify(body), res.statusCode]).toEqual([JSON.stringify(body), 400]);
    expect(res.json().error).toBe('invalid_request');
  }
  expect((await post({ from: iso(now - 1000), to: iso(now) }, 'no-such-subscription')).statusCode).toBe(404);
});

test('the OpenAPI document shows the replay route and the ordering field', async () => {
  const doc = h.app.swagger() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  expect(JSON.stringify(doc.paths['/api/subscriptions/{id}/replay']?.post?.requestBody)).toContain('replayId');
  expect(JSON.stringify(doc.paths['/api/subscriptions']?.post?.requestBody)).toContain('"entity"');
});
