import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { gateWorkflowId } from '../../src/shared/gate';
import { healthWorkflowId } from '../../src/shared/health';
import { laneWorkflowId } from '../../src/shared/lane';
import { subscriptionWorkflowId } from '../../src/shared/subscription';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { FIXTURE_SECURITY_YAML, HISTORIES_DIR, historyToFixture } from '../support/history-fixtures';
import { adminApi, createSubscription, publish } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * Records the replay fixtures (test/fixtures/histories/*.json): one real run of each workflow type on
 * the test dev server with the production worker, its history written as JSON. Not part of `npm test`
 * (its name is not `*.test.ts`): `npm run record:histories` runs it (docs/workflow-versioning.md,
 * "Re-recording the fixtures").
 * Payloads are encrypted with the public fixture key (test/support/history-fixtures.ts); every secret
 * here is made up for the recording.
 */
const SOURCE_SECRET = 'recording-source-secret';
let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer().start();
  h = await startHarness(
    testConfig(`
${FIXTURE_SECURITY_YAML}
server: { envelopes: { splitAbove: 2, maxNotifications: 100 } }
delivery:
  oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT1M }
  ordering: { settle: PT1S, idle: PT2S }
alerts: { healthCheckInterval: PT0.3S, recoveredGrace: PT1S }
sources:
  - id: erp
    kind: extend-commerce
    secret: ${SOURCE_SECRET}
    followUp: { urls: { OrderCreated: "${sourceApi.url}/orders/{OrderNumber}" } }
  - { id: narrow, kind: extend-commerce, secret: ${SOURCE_SECRET}, filter: { warehouses: [NOWHERE] } }
`),
  );
}, 120_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await sourceApi?.stop();
});

/** Waits for the workflow's end (unless it runs on) and writes its history as `<name>.json`. */
async function save(name: string, workflowId: string, options: { running?: boolean } = {}): Promise<void> {
  const handle = h.client.workflow.getHandle(workflowId);
  if (!options.running) await handle.result();
  const history = await handle.fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), historyToFixture(history));
}

async function postExtend(
  sourceId: string,
  notifications: Array<{ Action: string; Details: Record<string, unknown> }>,
) {
  const notificationId = randomUUID();
  const body = JSON.stringify(extendBody(notifications, notificationId));
  const res = await post(h.app, `/webhooks/${sourceId}`, body, { 'ms-signature': sign.ms(SOURCE_SECRET, body) });
  if (res.statusCode !== 202) throw new Error(`webhook: ${res.statusCode} ${res.body}`);
  return { notificationId, response: res.json() };
}

const hook = (name: string) => `${receiver.url}/${name}`;

test('one history of each workflow type', async () => {
  // inbound (follow-up fetched, handed off) and the delivery it started.
  sourceApi.on('/orders/REC-1', () => ({ status: 200, body: { order: 'REC-1', lines: 2 } }));
  const orders = await createSubscription(h, {
    id: 'rec-orders',
    url: hook('orders'),
    secret: 'recording-subscriber-secret',
    triggers: ['extend-commerce.OrderCreated'],
    retryPolicy: 'one-day',
  });
  const created = await postExtend('erp', [
    { Action: 'OrderCreated', Details: { OrderNumber: 'REC-1', Warehouse: 'W1' } },
  ]);
  const inboundId = created.response.events[0].workflowId as string;
  await save('inbound-handed-off', inboundId);
  await save('delivery', deliveryWorkflowId(`erp/${created.notificationId}-0`, orders));

  // inbound filtered out by its source's filter.
  const filtered = await postExtend('narrow', [
    { Action: 'OrderCreated', Details: { OrderNumber: 'REC-2', Warehouse: 'W1' } },
  ]);
  await save('inbound-filtered', filtered.response.events[0].workflowId);

  // delivery that failed its first attempt (503) and was delivered on the retry.
  let attempts = 0;
  receiver.on('/retried', () => ({ status: ++attempts === 1 ? 503 : 200 }));
  const retried = await createSubscription(h, {
    id: 'rec-retried',
    url: hook('retried'),
    secret: 'recording-subscriber-secret',
    triggers: ['rec.Retried'],
    retryPolicy: 'one-day',
  });
  const paid = await publish(h, { type: 'rec.Retried', data: { orderNumber: 'REC-3' } });
  await h.client.workflow.getHandle(paid.workflowId).result(); // handed off: the delivery exists
  await save('delivery-retried-then-delivered', deliveryWorkflowId(paid.eventId, retried));
  // health of that subscription: failing after the 503, recovered after the retry, ended after the grace period.
  await save('health', healthWorkflowId(retried));

  // lane (ordered delivery of one entity): two events, then the lane ends idle.
  const laned = await createSubscription(h, {
    id: 'rec-lane',
    url: hook('lane'),
    secret: 'recording-subscriber-secret',
    triggers: ['lane.*'],
    ordering: 'entity',
  });
  await publish(h, { type: 'lane.OrderCreated', entity: 'REC-L', data: { seq: 0 } });
  await publish(h, { type: 'lane.OrderChanged', entity: 'REC-L', data: { seq: 1 } });
  await eventually(async () => receiver.requestsTo('/lane').length >= 2, 'the two lane deliveries');
  await save('lane', laneWorkflowId(laned, 'REC-L'));

  // envelope (over splitAbove) whose three notifications feed one coalescer.
  await createSubscription(h, {
    id: 'rec-coalesce',
    url: hook('coalesce'),
    secret: 'recording-subscriber-secret',
    triggers: ['extend-commerce.BalanceChanged'],
    coalesce: { window: 'PT1S', key: ['ProductNumber'], types: ['BalanceChanged'] },
  });
  const balances = await postExtend(
    'erp',
    [1, 2, 3].map((balance) => ({
      Action: 'BalanceChanged',
      Details: {
        ProductNumber: 'REC-P',
        Warehouse: 'W1',
        Balance: balance,
        EventName: 'ItemChangeST',
        EventType: 'BalanceAdjustment',
      },
    })),
  );
  const envelopeId = balances.response.envelope.workflowId as string;
  await save('envelope', envelopeId);
  await eventually(async () => receiver.requestsTo('/coalesce').length >= 1, 'the coalesced delivery');
  const { workflows } = await eventually(async () => {
    const found = [];
    for await (const w of h.client.workflow.list({
      query: `WorkflowType = 'coalesceWorkflow' AND TaskQueue = '${h.config.temporal.taskQueue}'`,
    }))
      found.push(w.workflowId);
    return found.length ? { workflows: found } : undefined;
  }, 'the coalescer in visibility');
  await save('coalesce', workflows[0]!);

  // replay of a window holding two events, and the subscription workflow (updates, test signal).
  const replayed = await createSubscription(h, {
    id: 'rec-replay',
    url: hook('replay'),
    secret: 'recording-subscriber-secret',
    triggers: ['rec.Replayed'],
  });
  const from = new Date().toISOString();
  const events = [
    await publish(h, { type: 'rec.Replayed', data: { i: 1 } }),
    await publish(h, { type: 'rec.Replayed', data: { i: 2 } }),
  ];
  for (const e of events) await h.client.workflow.getHandle(e.workflowId).result();
  const to = new Date(Date.now() + 1_000).toISOString();
  await eventually(async () => {
    const { count } = await h.client.workflow.count(
      `WorkflowType = 'inboundWorkflow' AND TaskQueue = '${h.config.temporal.taskQueue}' AND HookflowStatus = 'handed-off' AND WorkflowId IN (${events.map((e) => `'${e.workflowId}'`).join(', ')})`,
    );
    return count === 2;
  }, 'visibility to list the two events');
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // `to` is in the past
  const replay = await adminApi(h, 'POST', `/api/subscriptions/${replayed}/replay`, { from, to });
  expect(replay.statusCode).toBe(202);
  await save('replay', replay.json().workflowId);

  expect((await adminApi(h, 'PATCH', `/api/subscriptions/${replayed}`, { name: 'Renamed' })).statusCode).toBe(200);
  expect((await adminApi(h, 'POST', `/api/subscriptions/${replayed}/test`)).statusCode).toBeLessThan(300);
  await eventually(
    async () => receiver.requestsTo('/replay').some((r) => r.body.toString('utf8').includes('hookflow.test')),
    'the test delivery',
  );
  await save('subscription', subscriptionWorkflowId(replayed), { running: true });
}, 300_000);

test('bulk retry: two failed deliveries retried', async () => {
  let failing = true;
  receiver.on('/bulk', () => ({ status: failing ? 500 : 200 }));
  const sub = await createSubscription(h, { url: hook('bulk'), triggers: ['rec.*'], retryPolicy: 'none' });
  const events = await Promise.all([1, 2].map((i) => publish(h, { type: 'rec.Failed', data: { i } })));
  await Promise.all(
    events.map((e) =>
      h.client.workflow
        .getHandle(deliveryWorkflowId(e.eventId, sub))
        .result()
        .catch(() => undefined),
    ),
  );
  const failed = `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${sub}' AND ExecutionStatus = 'Failed'`;
  await eventually(async () => (await h.client.workflow.count(failed)).count === 2, 'two failed deliveries listed');
  failing = false;
  const job = await adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, { key: 'recording' });
  if (job.statusCode !== 202) throw new Error(`bulk retry: ${job.statusCode} ${job.body}`);
  await save('bulk-retry', job.json().workflowId);
}, 120_000);

test('gate: a held subscription whose waiting deliveries are released', async () => {
  let up = false;
  receiver.on('/gated', () => ({ status: up ? 200 : 503 }));
  const sub = await createSubscription(h, {
    id: 'rec-gated',
    url: hook('gated'),
    secret: 'recording-subscriber-secret',
    triggers: ['rec.Gated'],
    retryPolicy: 'one-day',
  });
  // One delivery fails its first attempt before the hold (it meets the gate in backoff), one starts held.
  const early = await publish(h, { type: 'rec.Gated', data: { i: 1 } });
  await eventually(async () => receiver.requestsTo('/gated').length >= 1, 'the failed first attempt');
  const held = await adminApi(h, 'POST', `/api/subscriptions/${sub}/hold`, { reason: 'recording' });
  if (held.statusCode !== 200) throw new Error(`hold: ${held.statusCode} ${held.body}`);
  const late = await publish(h, { type: 'rec.Gated', data: { i: 2 } });
  await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/subscriptions/${sub}/gate`);
    return res.json().waiting === 2;
  }, 'two deliveries waiting at the gate');
  up = true;
  const released = await adminApi(h, 'POST', `/api/subscriptions/${sub}/release`);
  if (released.statusCode !== 200) throw new Error(`release: ${released.statusCode} ${released.body}`);
  await save('delivery-gated', deliveryWorkflowId(early.eventId, sub));
  await h.client.workflow.getHandle(deliveryWorkflowId(late.eventId, sub)).result();
  // Both permits answered: the gate idles (it would end after a minute; its history so far is enough).
  await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/subscriptions/${sub}/gate`);
    return res.json().waiting === 0 && res.json().inFlight === 0;
  }, 'the gate to be idle');
  await save('gate', gateWorkflowId(sub), { running: true });
}, 120_000);

test('health with the breaker: tripped after two failed attempts, released, recovered', async () => {
  let up = false;
  receiver.on('/breaker', () => ({ status: up ? 200 : 503 }));
  const sub = await createSubscription(h, {
    id: 'rec-breaker',
    url: hook('breaker'),
    secret: 'recording-subscriber-secret',
    triggers: ['rec.Tripped'],
    retryPolicy: 'one-day',
    breaker: { enabled: true, consecutiveFailures: 2, failingForMs: 600_000 },
  });
  const event = await publish(h, { type: 'rec.Tripped', data: { i: 1 } });
  await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/subscriptions/${sub}`);
    return (res.json().hold as { by?: string } | undefined)?.by === 'breaker';
  }, 'the breaker to hold the subscription');
  // The receiver is up; an operator releases (the gate's probe would, 30 s later).
  up = true;
  const released = await adminApi(h, 'POST', `/api/subscriptions/${sub}/release`);
  if (released.statusCode !== 200) throw new Error(`release: ${released.statusCode} ${released.body}`);
  await h.client.workflow.getHandle(deliveryWorkflowId(event.eventId, sub)).result();
  await save('health-breaker', healthWorkflowId(sub));
}, 120_000);

test('delivery with a local first attempt: delivered, failed once then delivered, held then released', async () => {
  let calls = 0;
  receiver.on('/local-first', () => ({ status: 200 }));
  receiver.on('/local-first-retried', () => ({ status: ++calls === 1 ? 503 : 200 }));
  receiver.on('/local-first-gated', () => ({ status: 200 }));
  const subscriptionTo = (path: string, trigger: string) =>
    createSubscription(h, {
      id: `rec-${path.slice(1)}`,
      url: hook(path.slice(1)),
      secret: 'recording-subscriber-secret',
      triggers: [trigger],
      retryPolicy: 'one-day',
    });
  const delivered = await subscriptionTo('/local-first', 'rec.LocalFirst');
  const retried = await subscriptionTo('/local-first-retried', 'rec.LocalFirstRetried');
  const gated = await subscriptionTo('/local-first-gated', 'rec.LocalFirstGated');
  const handedOff = async (type: string) => {
    const event = await publish(h, { type, data: { orderNumber: 'REC-LF' } });
    await h.client.workflow.getHandle(event.workflowId).result(); // handed off: the delivery exists
    return event.eventId;
  };
  await save('delivery-local-first', deliveryWorkflowId(await handedOff('rec.LocalFirst'), delivered));
  await save('delivery-local-first-retried', deliveryWorkflowId(await handedOff('rec.LocalFirstRetried'), retried));
  const held = await adminApi(h, 'POST', `/api/subscriptions/${gated}/hold`, { reason: 'recording' });
  if (held.statusCode !== 200) throw new Error(`hold: ${held.statusCode} ${held.body}`);
  const waiting = deliveryWorkflowId(await handedOff('rec.LocalFirstGated'), gated);
  await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/subscriptions/${gated}/gate`);
    return res.json().waiting === 1;
  }, 'the delivery waiting at the gate');
  const released = await adminApi(h, 'POST', `/api/subscriptions/${gated}/release`);
  if (released.statusCode !== 200) throw new Error(`release: ${released.statusCode} ${released.body}`);
  await save('delivery-local-first-gated', waiting);
}, 120_000);

test('inbound whose planning started its direct delivery and fed a lane', async () => {
  sourceApi.on('/orders/REC-D', () => ({ status: 200, body: { order: 'REC-D', lines: 1 } }));
  const direct = await createSubscription(h, {
    id: 'rec-direct',
    url: hook('direct'),
    secret: 'recording-subscriber-secret',
    triggers: ['extend-commerce.OrderCreated'],
    retryPolicy: 'one-day',
  });
  await createSubscription(h, {
    id: 'rec-direct-lane',
    url: hook('direct-lane'),
    secret: 'recording-subscriber-secret',
    triggers: ['extend-commerce.OrderCreated'],
    ordering: 'entity',
  });
  const created = await postExtend('erp', [
    { Action: 'OrderCreated', Details: { OrderNumber: 'REC-D', Warehouse: 'W1' } },
  ]);
  const inboundId = created.response.events[0].workflowId as string;
  await save('inbound-started-deliveries', inboundId);
  await h.client.workflow.getHandle(deliveryWorkflowId(`erp/${created.notificationId}-0`, direct)).result();
}, 120_000);

test('inbound with a local follow-up: fetched at once, and fetched by the regular activity after its local try failed', async () => {
  let tries = 0;
  await createSubscription(h, {
    id: 'rec-local-follow-up',
    url: hook('local-follow-up'),
    secret: 'recording-subscriber-secret',
    triggers: ['extend-commerce.OrderCreated'],
    retryPolicy: 'one-day',
  });
  sourceApi.on('/orders/REC-LF1', () => ({ status: 200, body: { order: 'REC-LF1' } }));
  sourceApi.on('/orders/REC-LF2', () =>
    ++tries === 1 ? { status: 503 } : { status: 200, body: { order: 'REC-LF2' } },
  );
  for (const [order, name] of [
    ['REC-LF1', 'inbound-local-follow-up'],
    ['REC-LF2', 'inbound-local-follow-up-retried'],
  ] as const) {
    const created = await postExtend('erp', [
      { Action: 'OrderCreated', Details: { OrderNumber: order, Warehouse: 'W1' } },
    ]);
    await save(name, created.response.events[0].workflowId as string);
  }
}, 120_000);
