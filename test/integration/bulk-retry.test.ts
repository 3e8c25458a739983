import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId, type DeliverySchedule, type OutboundEvent } from '../../src/shared/delivery';
import { deliveryStartOptions } from '../../src/shared/delivery-start';
import { bulkRetryWorkflowId, type BulkRetryProgress } from '../../src/shared/bulk-retry';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBulkRetryActivities, type BulkRetryPageResult } from '../../src/activities/bulk-retry';
import { bulkRetryQuery, emptyCounts } from '../../src/shared/bulk-retry';
import { resetFailedRun } from '../../src/temporal/deliveries';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription } from '../support/outbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';

// Bulk retry of failed deliveries through the API against a real Temporal: N deliveries fail (policy
// none, receiver 500), a fifth of them are retried one by one and delivered, then the bulk retry
// re-sends exactly the other four fifths, once each, and a repeated request sends nothing more.
// N = 100 by default: on a busy 2-core machine 500 take about two minutes (BULK_RETRY_N=500 to run them).
const N = Number(process.env.BULK_RETRY_N ?? 100);

let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(testConfig(''));
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

const schedule: DeliverySchedule = {
  policy: 'none',
  timeoutMs: 5_000,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 1_000,
  windowMs: 60_000,
};

/** Settles every promise, `limit` at a time. */
async function inBatches<T>(items: T[], limit: number, each: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += limit) await Promise.allSettled(items.slice(i, i + limit).map(each));
}

test(`${N} failed deliveries, ${N / 5} retried singly and delivered since: the bulk retry re-sends exactly the other ${(N * 4) / 5}, once, and nothing on a repeat`, async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/bulk/${run}`;
  let failing = true;
  /** Every request by webhook-id, and which of them the receiver took (2xx). */
  const sent = new Map<string, number>();
  const delivered = new Map<string, number>();
  receiver.on(path, (request) => {
    const id = String(request.headers['webhook-id']);
    sent.set(id, (sent.get(id) ?? 0) + 1);
    if (failing) return { status: 500 };
    delivered.set(id, (delivered.get(id) ?? 0) + 1);
    return { status: 200 };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    secret: 'bulk-secret',
    triggers: ['bulk.*'],
    retryPolicy: 'none',
    signature: 'standard-webhooks',
    // Every delivery must fail: the breaker would hold the subscription after its tenth failure.
    breaker: { enabled: false },
  });

  // N deliveries as fan-out starts them (the same start options), without N inbound workflows.
  const events: OutboundEvent[] = Array.from({ length: N }, (_, i) => {
    const uuid = randomUUID();
    return { id: `api/${run}-${i}`, uuid, type: 'bulk.Thing', occurredAt: new Date().toISOString(), data: { i } };
  });
  const ids = events.map((e) => deliveryWorkflowId(e.id, sub));
  await inBatches(events, 50, (event) =>
    h.client.workflow.start('deliveryWorkflow', {
      ...deliveryStartOptions({ subscriptionId: sub, workflowId: deliveryWorkflowId(event.id, sub), schedule }, event),
      taskQueue: h.config.temporal.taskQueue,
    }),
  );
  const failedQuery = `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${sub}' AND ExecutionStatus = 'Failed'`;
  await eventually(
    async () => (await h.client.workflow.count(failedQuery)).count === N,
    `${N} failed deliveries`,
    60_000,
  );
  expect(sent.size).toBe(N);

  // The receiver is fixed; a fifth are retried one by one (each of the first ten three times at once:
  // one new run), and delivered.
  failing = false;
  const singly = ids.filter((_, i) => i % 5 === 0);
  const rest = ids.filter((_, i) => i % 5 !== 0);
  await inBatches(singly, 20, async (id) => {
    const url = `/api/deliveries/${encodeURIComponent(id)}/retry`;
    const calls = singly.indexOf(id) < 10 ? 3 : 1;
    const answers = await Promise.all(Array.from({ length: calls }, () => adminApi(h, 'POST', url)));
    // The same failed run retried three times at once: one new run, the same for each caller.
    expect(new Set(answers.map((a) => a.statusCode === 202 && a.json().runId)).size).toBe(1);
  });
  const completedQuery = `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${sub}' AND ExecutionStatus = 'Completed'`;
  await eventually(
    async () => (await h.client.workflow.count(completedQuery)).count === singly.length,
    `${singly.length} single retries delivered`,
    60_000,
  );
  expect(delivered.size).toBe(singly.length);

  // Preview: every failed run the filters match, the since-delivered ones included (the job skips those).
  const preview = await adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, {
    status: 'failed',
    eventTypes: ['bulk.Thing'],
    httpStatus: 500,
    dryRun: true,
  });
  expect(preview.statusCode).toBe(200);
  expect(preview.json()).toMatchObject({ dryRun: true, failedRuns: N });

  // The bulk retry, asked for twice at once: one job.
  const body = { status: 'failed', eventTypes: ['bulk.Thing'], httpStatus: 500, key: `fix-${run}` };
  const [one, two] = await Promise.all([
    adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, body),
    adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, body),
  ]);
  expect([one.statusCode, two.statusCode].sort()).toEqual([200, 202]);
  const { jobId, workflowId } = one.json() as { jobId: string; workflowId: string };
  expect(two.json().jobId).toBe(jobId);
  expect(workflowId).toBe(bulkRetryWorkflowId(sub, jobId));
  const progress: BulkRetryProgress = await h.client.workflow.getHandle(workflowId).result();
  expect(progress).toMatchObject({
    matched: N,
    retried: rest.length,
    skippedDelivered: singly.length,
    skippedRunning: 0,
    errors: 0,
    done: true,
  });
  const read = await adminApi(h, 'GET', `/api/subscriptions/${sub}/retry/${jobId}`);
  expect(read.statusCode).toBe(200);
  expect(read.json()).toMatchObject({ jobId, retried: rest.length, skippedDelivered: singly.length, done: true });

  await eventually(
    async () => (await h.client.workflow.count(completedQuery)).count === N,
    `all ${N} delivered`,
    60_000,
  );
  // Exactly the other four fifths were sent again; every event reached the receiver once.
  expect(delivered.size).toBe(N);
  expect([...delivered.values()].every((n) => n === 1)).toBe(true);
  expect([...sent.values()].every((n) => n === 2)).toBe(true);

  // The same request again is the same job; a new job (another key) finds every latest run delivered.
  const again = await adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, body);
  expect(again.statusCode).toBe(200);
  expect(again.json()).toMatchObject({ jobId, duplicate: true });
  const fresh = await adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, { ...body, key: `again-${run}` });
  expect(fresh.statusCode).toBe(202);
  const second: BulkRetryProgress = await h.client.workflow.getHandle(fresh.json().workflowId).result();
  expect(second).toMatchObject({ matched: N, retried: 0, skippedDelivered: N, errors: 0 });
  expect([...sent.values()].every((n) => n === 2)).toBe(true);
}, 180_000);

test('the old batch-reset case: a failed run of a delivery delivered since, retried again, sends nothing', async () => {
  const path = `/bulk/${randomUUID()}`;
  let failing = true;
  let sent = 0;
  receiver.on(path, () => {
    sent += 1;
    return { status: failing ? 500 : 200 };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['bulk.*'],
    retryPolicy: 'none',
  });
  const uuid = randomUUID();
  const event: OutboundEvent = {
    id: `api/${uuid}`,
    uuid,
    type: 'bulk.Thing',
    occurredAt: new Date().toISOString(),
    data: {},
  };
  const id = deliveryWorkflowId(event.id, sub);
  const first = await h.client.workflow.start('deliveryWorkflow', {
    ...deliveryStartOptions({ subscriptionId: sub, workflowId: id, schedule }, event),
    taskQueue: h.config.temporal.taskQueue,
  });
  await expect(first.result()).rejects.toThrow();
  failing = false;
  const retried = await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(id)}/retry`);
  expect(retried.statusCode).toBe(202);
  await h.client.workflow.getHandle(id).result();
  expect(sent).toBe(2);

  // What `ExecutionStatus = 'Failed'` still lists: the first run. Reset it (as a batch reset would):
  // the reset is keyed by that run, so Temporal answers with the delivered run and starts none.
  const failedRun = first.firstExecutionRunId;
  const runId = await resetFailedRun(h.client, h.config.temporal.namespace, id, failedRun, 'batch reset');
  expect(runId).toBe(retried.json().runId);
  const latest = await h.client.workflow.getHandle(id).describe();
  expect(latest.runId).toBe(retried.json().runId);
  expect(latest.status.name).toBe('COMPLETED');
  // The API's retry of the delivery: 409, it was delivered.
  expect((await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(id)}/retry`)).statusCode).toBe(409);
  // The bulk retry lists the failed run and skips it.
  const listed = `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${sub}' AND ExecutionStatus = 'Failed'`;
  await eventually(async () => (await h.client.workflow.count(listed)).count === 1, 'the failed run listed');
  const job = await adminApi(h, 'POST', `/api/subscriptions/${sub}/retry`, { key: 'batch-reset-case' });
  const progress: BulkRetryProgress = await h.client.workflow.getHandle(job.json().workflowId).result();
  expect(progress).toMatchObject({ matched: 1, retried: 0, skippedDelivered: 1 });
  expect(sent).toBe(2);
});

test('a page resumed from its heartbeat (a worker killed after 10 of 30) retries only the other 20', async () => {
  const path = `/bulk/${randomUUID()}`;
  let failing = true;
  let sent = 0;
  receiver.on(path, () => {
    sent += 1;
    return { status: failing ? 500 : 200 };
  });
  const sub = await createSubscription(h, { url: `${receiver.url}${path}`, triggers: ['bulk.*'], retryPolicy: 'none' });
  const handles = await Promise.all(
    Array.from({ length: 30 }, (_, i) => {
      const uuid = randomUUID();
      const event: OutboundEvent = {
        id: `api/${uuid}`,
        uuid,
        type: 'bulk.Thing',
        occurredAt: new Date().toISOString(),
        data: { i },
      };
      return h.client.workflow.start('deliveryWorkflow', {
        ...deliveryStartOptions(
          { subscriptionId: sub, workflowId: deliveryWorkflowId(event.id, sub), schedule },
          event,
        ),
        taskQueue: h.config.temporal.taskQueue,
      });
    }),
  );
  await Promise.allSettled(handles.map((handle) => handle.result()));
  const cutoff = new Date().toISOString();
  const query = bulkRetryQuery(sub, {}, cutoff);
  await eventually(async () => (await h.client.workflow.count(query)).count === 30, '30 failed runs listed');
  failing = false;
  sent = 0;

  // The activity's retry after a worker died: its last heartbeat said 10 done, 10 retried.
  const { retryFailedPage } = createBulkRetryActivities({ config: h.config, client: h.client });
  const resumed = new MockActivityEnvironment({
    attempt: 2,
    heartbeatDetails: { done: 10, counts: { ...emptyCounts(), matched: 10, retried: 10 } },
  });
  const page: BulkRetryPageResult = await resumed.run(retryFailedPage, { query, cutoff, jobId: 'resumed' });
  expect(page).toMatchObject({ matched: 30, retried: 30, errors: 0 });
  expect(page.nextPageToken).toBeUndefined();
  // Only the 20 after the heartbeat were reset (the first 10 are the killed attempt's, not repeated here).
  const completed = `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${sub}' AND ExecutionStatus = 'Completed'`;
  // Reset, delivered and closed in visibility: slower on the PostgreSQL tier.
  await eventually(async () => (await h.client.workflow.count(completed)).count === 20, '20 delivered', 90_000);
  expect(sent).toBe(20);
});
