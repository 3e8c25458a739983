import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import type { AcceptanceOrder, CoalesceInput, CoalesceItem, CoalesceResult } from '../../src/shared/coalesce';
import { coalesceSignal } from '../../src/shared/coalesce';
import type { DeliveryInput, DeliverySchedule } from '../../src/shared/delivery';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

/**
 * docs/beyond-delivery.md, Coalescing: "a notification that reaches a coalescer after a later one was
 * already delivered by the same run is dropped (its result counts it as `superseded`)". The real
 * coalescer workflow on the time-skipping test server (the window passes without waiting); the `deliver`
 * activity records what each delivery workflow would send. The late one after the run closed:
 * test/integration/coalesce-late.test.ts.
 */

quietExpectedFailures();

const taskQueue = `coalesce-late-${randomUUID()}`;
const delivered: Array<{ id: string; coalesced?: unknown }> = [];
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

const SUB = 'sub-coalesce-late';
const WINDOW_MS = 60_000;
const SCHEDULE: DeliverySchedule = {
  policy: 'none',
  timeoutMs: 10_000,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 10_000,
  windowMs: 60_000,
};

beforeAll(async () => {
  env = await startTimeSkippingEnv();
  const activities: Pick<Activities, 'deliver'> = {
    deliver: async (input: DeliveryInput) => {
      delivered.push({ id: input.event.id, coalesced: input.event.coalesced });
      return { status: 'delivered', attempt: 1, httpStatus: 200 };
    },
  };
  worker = await startTestWorker(env, taskQueue, activities);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

const order = (receivedAt: string, eventId: string): AcceptanceOrder => ({ receivedAt, position: 0, eventId });
function item(eventId: string, receivedAt: string): CoalesceItem {
  return {
    event: { id: eventId, uuid: randomUUID(), type: 'erp.BalanceChanged', occurredAt: receivedAt, data: {} },
    order: order(receivedAt, eventId),
    schedule: SCHEDULE,
    deliveryWorkflowId: `delivery/${eventId}/${SUB}`,
  };
}

test('superseded: a notification older than the one this run delivered is dropped and counted', async () => {
  const key = randomUUID();
  // The state a run carries over continue-as-new after delivering t5: a batch of one (t6) in its window.
  const input: CoalesceInput = {
    subscriptionId: SUB,
    key: { ProductNumber: key },
    windowMs: WINDOW_MS,
    carried: {
      delivered: order('2026-01-01T00:00:05.000Z', `erp/${key}-t5`),
      deliveries: 1,
      count: 1,
      latest: item(`erp/${key}-t6`, '2026-01-01T00:00:06.000Z'),
    },
  };
  const handle = await env.client.workflow.start('coalesceWorkflow', {
    taskQueue,
    workflowId: `coalesce/${SUB}/${key}`,
    args: [input],
  });
  // Arrives in the window, but accepted before t5, which was delivered already.
  await handle.signal(coalesceSignal, item(`erp/${key}-t1`, '2026-01-01T00:00:01.000Z'));
  expect((await handle.result()) as CoalesceResult).toEqual({ deliveries: 2, superseded: 1 });
  const mine = () => delivered.filter((d) => d.id.includes(key));
  await env.client.workflow.getHandle(`delivery/erp/${key}-t6/${SUB}`).result();
  expect(mine()).toEqual([{ id: `erp/${key}-t6`, coalesced: { count: 1, replaced: 0 } }]);
});
