import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import type {
  AwaitingGateDetails,
  DeliveryAttemptResult,
  DeliveryInput,
  DeliverySchedule,
  OutboundEvent,
} from '../../src/shared/delivery';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { deliveryStartOptions } from '../../src/shared/delivery-start';
import { FailureType } from '../../src/shared/failure-types';
import {
  gatePermitSignal,
  gateRequestSignal,
  gateStateQuery,
  gateWorkflowId,
  type GateConfig,
  type GateRequest,
  type GateWorkflow,
} from '../../src/shared/gate';
import { eventually } from '../support/harness';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

/**
 * The gate over skipped time: the real delivery and gate workflows with a stand-in `deliver` (it answers
 * AwaitingGate until permitted, as the real one does for a held or throttled subscription) and a stand-in
 * `requestPermit` (recorded; for gated subscriptions it asks the real gate workflow).
 */

quietExpectedFailures();

type Stubs = Pick<Activities, 'deliver' | 'requestPermit'>;
type Mode = 'held' | 'held-budget' | 'throttled';

const TIMEOUT_MS = 30_000;
const HOUR_MS = 60 * 60_000;
const taskQueue = `gate-${randomUUID()}`;
/** The gate config each gated subscription of the test uses (absent: requestPermit only records). */
const gateConfigs = new Map<string, GateConfig>();
const calls: Array<{ workflowId: string; permitted: boolean }> = [];
const requests: string[] = [];
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

beforeAll(async () => {
  env = await startTimeSkippingEnv();
  const activities: Stubs = {
    deliver: async (input: DeliveryInput): Promise<DeliveryAttemptResult> => {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      const attempt = Context.current().info.attempt;
      calls.push({ workflowId, permitted: input.permitted === true });
      const mode = input.event.data.mode as Mode;
      if (!input.permitted) {
        const details: AwaitingGateDetails = {
          reason: mode === 'held' || mode === 'held-budget' ? 'held' : 'throttled',
          attempt,
          ...(mode === 'held-budget' ? { budgetRuns: true } : {}),
        };
        throw ApplicationFailure.create({
          type: FailureType.AwaitingGate,
          message: 'AwaitingGate',
          nonRetryable: true,
          details: [details],
        });
      }
      return { status: 'delivered', httpStatus: 200, attempt: (input.attemptBase ?? 0) + attempt };
    },
    requestPermit: async ({ subscriptionId, workflowId, queuedAt }) => {
      requests.push(workflowId);
      const config = gateConfigs.get(subscriptionId);
      if (!config) return;
      await env.client.workflow.signalWithStart<GateWorkflow, [GateRequest]>('gateWorkflow', {
        workflowId: gateWorkflowId(subscriptionId),
        taskQueue,
        args: [{ subscriptionId, config }],
        signal: gateRequestSignal,
        signalArgs: [{ workflowId, queuedAt }],
      });
    },
  };
  worker = await startTestWorker(env, taskQueue, activities);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

const schedule: DeliverySchedule = {
  policy: 'one-day',
  timeoutMs: TIMEOUT_MS,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  windowMs: HOUR_MS,
};

/** Starts a delivery of a fresh event to `subscriptionId`; its stand-in activity behaves as `mode` says. */
async function startDelivery(subscriptionId: string, mode: Mode) {
  const id = randomUUID();
  const event: OutboundEvent = {
    id: `api/${id}`,
    uuid: id,
    type: 'shop.OrderPaid',
    occurredAt: new Date().toISOString(),
    data: { mode },
  };
  const workflowId = deliveryWorkflowId(event.id, subscriptionId);
  return env.client.workflow.start('deliveryWorkflow', {
    ...deliveryStartOptions({ subscriptionId, workflowId, schedule }, event),
    taskQueue,
  });
}

const callsOf = (workflowId: string) => calls.filter((c) => c.workflowId === workflowId);

describe('a hold and the retry window (budgetRuns)', () => {
  test('budgetRuns false: two hours held do not spend a one-hour window; the permitted attempt is sent', async () => {
    const handle = await startDelivery(`budget-off-${randomUUID().slice(0, 8)}`, 'held');
    await eventually(async () => requests.includes(handle.workflowId), 'the request for a permit');
    await env.sleep(2 * HOUR_MS);
    await handle.signal(gatePermitSignal, { grant: 1 });
    await expect(handle.result()).resolves.toMatchObject({ status: 'delivered', attempt: 1 });
    expect(callsOf(handle.workflowId)).toEqual([
      { workflowId: handle.workflowId, permitted: false },
      { workflowId: handle.workflowId, permitted: true },
    ]);
  });

  test('budgetRuns true: two hours held spend the one-hour window; the delivery fails without sending', async () => {
    const handle = await startDelivery(`budget-on-${randomUUID().slice(0, 8)}`, 'held-budget');
    await eventually(async () => requests.includes(handle.workflowId), 'the request for a permit');
    await env.sleep(2 * HOUR_MS);
    await handle.signal(gatePermitSignal, { grant: 1 });
    const failed = await handle.result().catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(String((failed as WorkflowFailedError).cause?.message)).toMatch(/retry window of 1 h exhausted/);
    expect(callsOf(handle.workflowId)).toEqual([{ workflowId: handle.workflowId, permitted: false }]);
  });

  test('budgetRuns true: a hold shorter than the window leaves the rest of it; the permitted attempt is sent', async () => {
    const handle = await startDelivery(`budget-short-${randomUUID().slice(0, 8)}`, 'held-budget');
    await eventually(async () => requests.includes(handle.workflowId), 'the request for a permit');
    await env.sleep(HOUR_MS / 2);
    await handle.signal(gatePermitSignal, { grant: 1 });
    await expect(handle.result()).resolves.toMatchObject({ status: 'delivered' });
    expect(callsOf(handle.workflowId).map((c) => c.permitted)).toEqual([false, true]);
  });
});

test('a permit sent to a delivery that never answers expires: maxInFlight does not leak', async () => {
  const subscriptionId = `expiry-${randomUUID().slice(0, 8)}`;
  const config: GateConfig = { maxInFlight: 1, timeoutMs: TIMEOUT_MS, updatedAt: new Date(0).toISOString() };
  gateConfigs.set(subscriptionId, config);
  const gate = env.client.workflow.getHandle(gateWorkflowId(subscriptionId));
  // A delivery whose worker died with the permit: a workflow that takes the `permit` signal and never answers
  // (a held gate of another subscription stands in: a pending task of a workerless queue, or a running
  // activity, would stop the test server's clock).
  const lost = await env.client.workflow.start<GateWorkflow>('gateWorkflow', {
    workflowId: `lost-${subscriptionId}`,
    taskQueue,
    args: [{ subscriptionId: `lost-${subscriptionId}`, config: { ...config, hold: { since: '', by: 'operator' } } }],
  });
  await env.client.workflow.signalWithStart<GateWorkflow, [GateRequest]>('gateWorkflow', {
    workflowId: gateWorkflowId(subscriptionId),
    taskQueue,
    args: [{ subscriptionId, config }],
    signal: gateRequestSignal,
    signalArgs: [{ workflowId: lost.workflowId, queuedAt: 0 }],
  });
  await eventually(async () => (await gate.query(gateStateQuery)).inFlight === 1, 'the permit sent to it');
  const next = await startDelivery(subscriptionId, 'throttled');
  await eventually(async () => (await gate.query(gateStateQuery)).waiting === 1, 'the next delivery waiting');
  await env.sleep(10_000);
  expect(callsOf(next.workflowId).map((c) => c.permitted)).toEqual([false]);
  expect(await gate.query(gateStateQuery)).toMatchObject({ inFlight: 1, waiting: 1 });
  // The permit expires the receiver timeout plus a minute after it was granted; the slot goes to the next.
  await env.sleep(TIMEOUT_MS + 60_000);
  await expect(next.result()).resolves.toMatchObject({ status: 'delivered' });
  expect(callsOf(next.workflowId).map((c) => c.permitted)).toEqual([false, true]);
  await lost.terminate('test over');
});
