import { randomUUID } from 'node:crypto';
import { resetFailedRun } from '../../src/temporal/deliveries';
import { replayDeliveryId } from '../../src/shared/replay';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription, publish } from '../support/outbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';

// docs/beyond-delivery.md, Replay: "A replay that runs again (reset) starts no delivery twice." The
// replay workflow is reset to its first workflow task, as an operator would in the Web UI or CLI, and
// runs again from the start: its deliveries exist already, so nothing reaches the receiver a third time.
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

const EVENTS = 5;

test('a replay reset to its first workflow task runs again and starts no delivery twice', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/replay-reset/${run}`;
  const received: string[] = [];
  receiver.on(path, (request) => {
    received.push(String(request.headers['x-hookflow-event-id']));
    return { status: 200 };
  });
  const sub = await createSubscription(h, { url: `${receiver.url}${path}`, triggers: ['rr.*'] });
  const from = new Date().toISOString();
  const events: string[] = [];
  for (let i = 0; i < EVENTS; i++)
    events.push((await publish(h, { type: 'rr.Changed', data: { i }, idempotencyKey: `${run}-${i}` })).eventId);
  const to = new Date().toISOString();
  await eventually(async () => received.length >= EVENTS, 'the original deliveries', 60_000);
  await eventually(async () => {
    const { count } = await h.client.workflow.count(
      `WorkflowType = 'inboundWorkflow' AND TaskQueue = '${h.config.temporal.taskQueue}' AND HookflowStatus = 'handed-off' AND WorkflowId STARTS_WITH 'inbound/api/${run}-'`,
    );
    return count === EVENTS;
  }, 'visibility to list the events');

  const res = await adminApi(h, 'POST', `/api/subscriptions/${sub}/replay`, { from, to });
  expect(res.statusCode).toBe(202);
  const { replayId, workflowId } = res.json() as { replayId: string; workflowId: string };
  const handle = h.client.workflow.getHandle(workflowId);
  expect(await handle.result()).toMatchObject({ matched: EVENTS, started: EVENTS, existing: 0, done: true });
  const replayed = events.map((eventId) => replayDeliveryId(sub, replayId, eventId));
  await Promise.all(replayed.map((id) => h.client.workflow.getHandle(id).result()));
  expect(received).toHaveLength(2 * EVENTS);

  // Reset to the first workflow task (the Web UI's "Reset", type "First Workflow Task").
  const resetRunId = await resetFailedRun(
    h.client,
    h.config.temporal.namespace,
    workflowId,
    (await handle.describe()).runId,
    'test: run the replay again',
  );
  const again = h.client.workflow.getHandle(workflowId, resetRunId);
  // The new run finds every delivery it would start: started none, all existing.
  expect(await again.result()).toMatchObject({ matched: EVENTS, started: 0, existing: EVENTS, done: true });
  // Each replayed delivery is still its one (completed) run: none was started again.
  for (const id of replayed) {
    const runs: string[] = [];
    for await (const w of h.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.runId);
    expect({ id, runs: runs.length }).toEqual({ id, runs: 1 });
  }
  const counts = new Map<string, number>();
  for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...counts].sort()).toEqual(events.map((id) => [id, 2]).sort());
  expect(received).toHaveLength(2 * EVENTS);
});
