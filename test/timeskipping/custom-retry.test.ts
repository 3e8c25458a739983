import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Agent } from 'undici';
import { createActivities } from '../../src/activities';
import { deliverySchedule } from '../../src/activities/fan-out';
import { parseConfig } from '../../src/config/load';
import { keyringFromConfig } from '../../src/security/keyring';
import type { DeliveryInput, DeliverySchedule } from '../../src/shared/delivery';
import { FailureType } from '../../src/shared/failure-types';
import type { RetrySchedule } from '../../src/shared/subscription';
import { createSubscriptionSchema } from '../../src/subscriptions/schema';
import { SubscriptionStore } from '../../src/subscriptions/store';
import { FakeHttpPeer } from '../support/fake-http';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

quietExpectedFailures();

/** Attempt start offsets a schedule allows: 0, then each wait (initial * coefficient^n, capped) while inside the duration. */
function attemptOffsets(s: DeliverySchedule): number[] {
  const offsets = [0];
  for (let delay = s.initialIntervalMs; ; delay *= s.backoffCoefficient) {
    const next = offsets.at(-1)! + Math.min(delay, s.maximumIntervalMs);
    if (next >= s.windowMs) return offsets;
    offsets.push(next);
  }
}

describe('custom retry schedule over skipped time (Java time-skipping test server)', () => {
  const key = randomBytes(32).toString('base64');
  const config = parseConfig(
    `security: { encryptionKeys: [{ id: k1, key: "${key}" }] }\nnetwork: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }\n`,
    {},
    'test config',
  );
  const keyring = keyringFromConfig([{ id: 'k1', key }]);
  const taskQueue = `timeskipping-${randomUUID()}`;
  const http = new Agent({ keepAliveTimeout: 1_000 });
  let env: TestWorkflowEnvironment;
  let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;
  let receiver: FakeHttpPeer | undefined;

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
    worker = await startTestWorker(env, taskQueue, createActivities({ config, http, client: env.client, keyring }));
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
    await http.close();
    await receiver?.stop();
  });

  test('attempts follow initial interval, coefficient and maximum interval; the delivery fails once maximumDuration is used up', async () => {
    receiver = await new FakeHttpPeer(() => ({ status: 503 })).start();
    // 30 s, then doubling: 30, 60, 120, 240 s, capped at 5 min; for 30 min.
    const retrySchedule: RetrySchedule = {
      initialIntervalMs: 30_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 300_000,
      maximumDurationMs: 1_800_000,
    };
    const store = new SubscriptionStore(env.client, taskQueue, keyring);
    const subscription = await store.create(
      createSubscriptionSchema.parse({
        id: `sub-${randomUUID()}`,
        name: 'custom schedule',
        contactEmail: 'ops@example.com',
        url: receiver.url,
        secret: 'shh',
        triggers: ['*'],
        retryPolicy: 'custom',
        retrySchedule,
      }),
    );
    const schedule = deliverySchedule(subscription, config);
    expect(schedule).toMatchObject({ policy: 'custom', initialIntervalMs: 30_000, windowMs: 1_800_000 });
    const uuid = randomUUID();
    const input: DeliveryInput = {
      subscriptionId: subscription.id,
      event: { id: `api/${uuid}`, uuid, type: 'test.Thing', occurredAt: new Date().toISOString(), data: {} },
      schedule,
    };
    const handle = await env.client.workflow.start('deliveryWorkflow', {
      taskQueue,
      workflowId: `delivery-${uuid}`,
      args: [input],
    });
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );

    // By hand: 0, 30, 90, 210, 450 s (waits 30, 60, 120, 240), then every 300 s (the cap): 750, 1050,
    // 1350, 1650 s; the next, 1950 s, lies past the 1800 s: 9 attempts.
    const expected = attemptOffsets(schedule);
    expect(expected.map((ms) => ms / 1000)).toEqual([0, 30, 90, 210, 450, 750, 1050, 1350, 1650]);
    expect(receiver.requests.map((r) => Number(r.headers['x-hookflow-attempt']))).toEqual(
      expected.map((_, i) => i + 1),
    );

    // When each attempt happened, in server (skipped) time: the attemptFailed signal each failed attempt
    // sends its workflow, relative to the first one. An attempt takes milliseconds, so 2 s of slack.
    const history = await handle.fetchHistory();
    const signalled = (history.events ?? [])
      .filter(
        (e) =>
          // the first attempt is a local activity: its failure is in its marker, not in a signal
          e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ||
          (e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
            e.workflowExecutionSignaledEventAttributes?.signalName === 'attemptFailed'),
      )
      .map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
    expect(signalled).toHaveLength(expected.length);
    const offsets = signalled.map((t) => t - signalled[0]!);
    offsets.forEach((offset, i) => {
      expect(Math.abs(offset - expected[i]!)).toBeLessThan(2_000);
    });

    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe(FailureType.DeliveryFailed);
    expect(cause.message).toContain(`after ${expected.length} attempt(s)`);
    // It failed at the last attempt, inside maximumDuration: no attempt after 1650 s, none past 1800 s.
    const { startTime, closeTime } = await handle.describe();
    const skipped = closeTime!.getTime() - startTime.getTime();
    expect(skipped).toBeGreaterThanOrEqual(expected.at(-1)!);
    expect(skipped).toBeLessThan(retrySchedule.maximumDurationMs);
  });
});
