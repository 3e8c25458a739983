import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import type { EventFilter, FollowUpPlan, InboundWorkflowInput, InboundWorkflowResult } from '../../src/shared/inbound';
import type { DeliveryInput } from '../../src/shared/delivery';
import { FailureType } from '../../src/shared/failure-types';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

/**
 * The workflows' branches with stub activities, as in the Temporal samples' `workflows-mocks` test
 * (activities-examples): the real workflow code in a worker whose activities are stand-ins, on the
 * time-skipping test server. The end-to-end suites cover the same paths with the real activities.
 */

quietExpectedFailures();

type Stubs = Pick<Activities, 'fetchFollowUp' | 'planDeliveries' | 'deliver'>;
const notStubbed = (name: string) => async () => {
  throw ApplicationFailure.nonRetryable(`${name} was not expected to run`, 'Unexpected');
};

const taskQueue = `branches-${randomUUID()}`;
const calls: string[] = [];
let stubs: Stubs;
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

beforeAll(async () => {
  env = await startTimeSkippingEnv();
  // Each activity records its call and runs whatever the test put in `stubs`.
  const activities: Stubs = {
    fetchFollowUp: (...args) => (calls.push('fetchFollowUp'), stubs.fetchFollowUp(...args)),
    planDeliveries: (...args) => (calls.push('planDeliveries'), stubs.planDeliveries(...args)),
    deliver: (...args) => (calls.push('deliver'), stubs.deliver(...args)),
  };
  worker = await startTestWorker(env, taskQueue, activities);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

beforeEach(() => {
  calls.length = 0;
  stubs = {
    fetchFollowUp: notStubbed('fetchFollowUp'),
    planDeliveries: notStubbed('planDeliveries'),
    deliver: notStubbed('deliver'),
  };
});

function inbound(filter: EventFilter, followUp: FollowUpPlan): Promise<InboundWorkflowResult> {
  const eventKey = randomUUID();
  const input: InboundWorkflowInput = {
    event: {
      sourceId: 'erp',
      sourceKind: 'extend-commerce',
      eventKey,
      uuid: randomUUID(),
      eventType: 'OrderCreated',
      recognised: true,
      entity: 'SO-1',
      warehouse: 'W1',
      receivedAt: new Date().toISOString(),
      payload: { Action: 'OrderCreated', Details: { OrderNumber: 'SO-1', Warehouse: 'W1' } },
    },
    filter,
    followUp,
  };
  return env.client.workflow.execute('inboundWorkflow', {
    taskQueue,
    workflowId: `inbound-${eventKey}`,
    args: [input],
  });
}

const FETCH: FollowUpPlan = { kind: 'fetch', url: 'https://api.example.com/orders/SO-1' };

describe('inbound workflow', () => {
  test('filtered: an event outside the filter ends at once, no activity runs', async () => {
    const result = await inbound({ warehouses: ['ADR-1'] }, FETCH);
    expect(result).toEqual({ status: 'filtered', reason: expect.stringContaining('W1') });
    expect(calls).toEqual([]);
  });

  test('follow-up not found: the fetch answers FollowUpNotFound, nothing is handed off', async () => {
    stubs.fetchFollowUp = async () => {
      throw ApplicationFailure.nonRetryable(
        'GET https://api.example.com/orders/SO-1 answered 404',
        FailureType.FollowUpNotFound,
      );
    };
    const result = await inbound({}, FETCH);
    expect(result).toMatchObject({
      status: 'follow-up-not-found',
      reason: 'GET https://api.example.com/orders/SO-1 answered 404',
      enriched: { event: { entity: 'SO-1' } },
    });
    expect(result.enriched?.followUp).toBeUndefined();
    expect(calls).toEqual(['fetchFollowUp']);
  });

  test('follow-up failed: any other permanent fetch failure, nothing is handed off', async () => {
    stubs.fetchFollowUp = async () => {
      throw ApplicationFailure.nonRetryable('the source API refused the credentials (401)', 'FollowUpRefused');
    };
    const result = await inbound({}, FETCH);
    expect(result).toMatchObject({
      status: 'follow-up-failed',
      reason: 'the source API refused the credentials (401)',
    });
    expect(calls).toEqual(['fetchFollowUp']);
  });

  test('follow-up failed without a fetch: the URL could not be made from the event', async () => {
    const result = await inbound({}, { kind: 'unavailable', reason: 'the event has no value for {OrderNumber}' });
    expect(result).toMatchObject({ status: 'follow-up-failed', reason: 'the event has no value for {OrderNumber}' });
    expect(calls).toEqual([]);
  });

  test('enriched and handed off: the fetched data goes with the event to fan-out', async () => {
    stubs.fetchFollowUp = async ({ url }) => ({ url, status: 200, data: { order: 'SO-1' } });
    stubs.planDeliveries = async () => ({ planned: [], unread: [] });
    const result = await inbound({ warehouses: ['W1'] }, FETCH);
    expect(result).toMatchObject({
      status: 'handed-off',
      deliveries: [],
      enriched: { followUp: { status: 200, data: { order: 'SO-1' } } },
    });
    expect(calls).toEqual(['fetchFollowUp', 'planDeliveries']);
  });

  test('follow-up retried: a local first try that fails retryably goes on as the regular activity, with its retries', async () => {
    let tries = 0;
    stubs.fetchFollowUp = async ({ url }) => {
      if (++tries <= 3)
        throw ApplicationFailure.retryable('the source API answered 503', FailureType.FollowUpUnavailable);
      return { url, status: 200, data: { order: 'SO-1' } };
    };
    stubs.planDeliveries = async () => ({ planned: [], unread: [] });
    const result = await inbound({}, FETCH);
    expect(result).toMatchObject({ status: 'handed-off', enriched: { followUp: { data: { order: 'SO-1' } } } });
    expect(calls).toEqual(['fetchFollowUp', 'fetchFollowUp', 'fetchFollowUp', 'fetchFollowUp', 'planDeliveries']);
    // The local try is a marker; the rest is one scheduled activity, attempt 3 the one that answered.
    const events = (await env.client.workflow.getHandle(`inbound-${result.enriched!.event.eventKey}`).fetchHistory())
      .events!;
    const scheduled = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchFollowUp',
    );
    expect(scheduled).toHaveLength(1);
    expect(events.find((e) => e.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes?.attempt).toBe(
      3,
    );
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
  });
});

/** A delivery of a test event with the one-day policy over a 20-minute window, retries from 1 min doubling. */
const twentyMinuteDelivery = (uuid: string): DeliveryInput => ({
  subscriptionId: 'sub-branches',
  event: { id: `api/${uuid}`, uuid, type: 'test.Thing', occurredAt: new Date().toISOString(), data: {} },
  schedule: {
    policy: 'one-day',
    timeoutMs: 30_000,
    initialIntervalMs: 60_000,
    backoffCoefficient: 2,
    maximumIntervalMs: 3_600_000,
    windowMs: 20 * 60_000,
  },
});

describe('delivery workflow', () => {
  test('delivery window exhausted: every attempt fails retryably until the window ends, then DeliveryFailed', async () => {
    stubs.deliver = async () => {
      throw ApplicationFailure.retryable('receiver answered 503', 'HttpStatus');
    };
    const uuid = randomUUID();
    // Attempts at 0, 1, 3, 7 and 15 min (backoff 1, 2, 4, 8 min); the next would start past the 20-minute window.
    const input = twentyMinuteDelivery(uuid);
    const failure = await env.client.workflow
      .execute('deliveryWorkflow', { taskQueue, workflowId: `delivery-${uuid}`, args: [input] })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: FailureType.DeliveryFailed, nonRetryable: true });
    expect(cause.message).toMatch(/retry window of 0\.33\d* h exhausted/);
    expect(calls).toEqual(Array(5).fill('deliver'));
  });
  test('a local first attempt that defers (the subscription needs a query) sends nothing; a regular attempt 1 delivers', async () => {
    const inputs: DeliveryInput[] = [];
    stubs.deliver = async (input) => {
      inputs.push(input);
      if (inputs.length === 1)
        throw ApplicationFailure.create({
          type: FailureType.LocalAttemptDeferred,
          message: 'deferred',
          nonRetryable: true,
        });
      return { status: 'delivered', httpStatus: 200, attempt: 1 };
    };
    const uuid = randomUUID();
    const input = twentyMinuteDelivery(uuid);
    const result = await env.client.workflow.execute('deliveryWorkflow', {
      taskQueue,
      workflowId: `delivery-${uuid}`,
      args: [input],
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(calls).toEqual(['deliver', 'deliver']);
    // The regular attempt is the delivery's first: no attempt base, as without the local attempt.
    expect(inputs[1]?.attemptBase).toBeUndefined();
  });
});
