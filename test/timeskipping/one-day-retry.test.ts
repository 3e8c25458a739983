import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Agent } from 'undici';
import { createActivities } from '../../src/activities';
import { deliverySchedule } from '../../src/activities/fan-out';
import { parseConfig } from '../../src/config/load';
import { keyringFromConfig } from '../../src/security/keyring';
import type { DeliveryInput, DeliveryResult, DeliverySchedule } from '../../src/shared/delivery';
import { FailureType } from '../../src/shared/failure-types';
import type { RetryPolicyName } from '../../src/shared/subscription';
import { createSubscriptionSchema } from '../../src/subscriptions/schema';
import { SubscriptionStore } from '../../src/subscriptions/store';
import { FakeHttpPeer, type Responder } from '../support/fake-http';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

quietExpectedFailures();

/**
 * When each attempt of the `one-day` schedule starts, relative to the first (0): then one after each backoff
 * delay (initial * coefficient^n, capped at maximumInterval) as long as it still starts inside the window.
 * Temporal's activity retries have no jitter, so this is exact.
 */
function attemptOffsets(s: DeliverySchedule): number[] {
  const offsets = [0];
  for (let delay = s.initialIntervalMs; ; delay *= s.backoffCoefficient) {
    const next = offsets.at(-1)! + Math.min(delay, s.maximumIntervalMs);
    if (next >= s.windowMs) return offsets;
    offsets.push(next);
  }
}

/** The attempt numbers the receiver saw, in arrival order. */
const attemptHeaders = (receiver: FakeHttpPeer) =>
  receiver.requests.map((r) => Number(r.headers['x-hookflow-attempt']));

describe('delivery retry policies over skipped time (Java time-skipping test server)', () => {
  // The default `delivery.oneDay` schedule, deliberately not shortened: the point is the real 24 h.
  // Receivers listen on loopback, which the SSRF guard refuses unless allowed.
  const key = randomBytes(32).toString('base64');
  const config = parseConfig(
    `security: { encryptionKeys: [{ id: k1, key: "${key}" }] }\nnetwork: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }\n`,
    {},
    'test config',
  );
  const keyring = keyringFromConfig([{ id: 'k1', key }]); // the key the config names
  const taskQueue = `timeskipping-${randomUUID()}`;
  const http = new Agent({ keepAliveTimeout: 1_000 });
  const receivers: FakeHttpPeer[] = [];
  let env: TestWorkflowEnvironment;
  let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

  beforeAll(async () => {
    env = await startTimeSkippingEnv();
    worker = await startTestWorker(env, taskQueue, createActivities({ config, http, client: env.client, keyring }));
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
    await http.close();
    await Promise.all(receivers.map((r) => r.stop()));
  });

  const receiver = async (responder: Responder) => {
    const peer = await new FakeHttpPeer(responder).start();
    receivers.push(peer);
    return peer;
  };

  /** Creates a subscription to `url` and runs one delivery to it, as fan-out would start it. */
  async function deliver(url: string, retryPolicy: RetryPolicyName) {
    const store = new SubscriptionStore(env.client, taskQueue, keyring);
    const subscription = await store.create(
      createSubscriptionSchema.parse({
        id: `sub-${randomUUID()}`,
        name: 'time skipping',
        contactEmail: 'ops@example.com',
        url,
        secret: 'shh',
        triggers: ['*'],
        retryPolicy,
      }),
    );
    const uuid = randomUUID();
    const input: DeliveryInput = {
      subscriptionId: subscription.id,
      event: { id: `api/${uuid}`, uuid, type: 'test.Thing', occurredAt: new Date().toISOString(), data: { n: 1 } },
      schedule: deliverySchedule(subscription, config),
    };
    const handle = await env.client.workflow.start('deliveryWorkflow', {
      taskQueue,
      workflowId: `delivery-${uuid}`,
      args: [input],
    });
    const outcome = await handle.result().then(
      (result) => ({ result: result as DeliveryResult, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    // Server time the delivery took, from its own start and close. Not env.currentTimeMs(): once the
    // delivery is closed, the still unlocked clock may jump on to the next timer of any other workflow
    // (the subscription workflows' default 10-year run timeout).
    const { startTime, closeTime } = await handle.describe();
    return { ...outcome, schedule: input.schedule, skippedMs: closeTime!.getTime() - startTime.getTime() };
  }

  /** The DeliveryFailed application failure the workflow ended with. */
  function deliveryFailure(error: unknown): ApplicationFailure {
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe(FailureType.DeliveryFailed);
    return cause as ApplicationFailure;
  }

  test('one-day: a receiver that always answers 503 gets every attempt the 24 h window allows, then the delivery fails', async () => {
    const unavailable = await receiver(() => ({ status: 503 }));
    const { error, schedule, skippedMs } = await deliver(unavailable.url, 'one-day');

    const offsets = attemptOffsets(schedule);
    const expected = offsets.length;
    // By hand: attempt 1 at 0; delays 1+2+4+8+16+32+64 min (= 127 min, attempts 2..8); the next (128 min)
    // is capped at 2 h: attempts 9..18 at 127 + 120k min (k = 1..10, the last at 1327 min, 22 h 7 min);
    // a 19th would be at 1447 min, past 1440.
    expect(expected).toBe(18);
    expect(offsets.at(-1)).toBe(1327 * 60_000);
    expect(unavailable.requests).toHaveLength(expected);
    expect(attemptHeaders(unavailable)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));

    const failure = deliveryFailure(error);
    expect(failure.message).toContain(`after ${expected} attempt(s)`);
    expect(failure.message).toMatch(/retry window of 24 h exhausted/);
    // Temporal gives up as soon as the next backoff would end past the window (the 18th failure, at 22 h 7 min
    // of server time), not at the window's end: every backoff was really waited, and nothing after the last.
    expect(skippedMs).toBeGreaterThanOrEqual(offsets.at(-1)!);
    expect(skippedMs).toBeLessThan(offsets.at(-1)! + 5 * 60_000);
    expect(skippedMs).toBeLessThan(schedule.windowMs);
  });

  test('none: exactly one attempt, then the delivery fails', async () => {
    const unavailable = await receiver(() => ({ status: 503 }));
    const { error } = await deliver(unavailable.url, 'none');

    expect(unavailable.requests).toHaveLength(1);
    expect(attemptHeaders(unavailable)).toEqual([1]);
    expect(deliveryFailure(error).message).toContain('after 1 attempt(s)');
  });

  test('one-day: a receiver that recovers after three 503s gets the event on the fourth attempt', async () => {
    const recovering = await receiver((request) => ({
      status: Number(request.headers['x-hookflow-attempt']) <= 3 ? 503 : 200,
    }));
    const { result, error, schedule, skippedMs } = await deliver(recovering.url, 'one-day');

    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: 'delivered', httpStatus: 200, attempt: 4 });
    expect(attemptHeaders(recovering)).toEqual([1, 2, 3, 4]);
    expect(skippedMs).toBeGreaterThanOrEqual(attemptOffsets(schedule)[3]!); // 1 + 2 + 4 min of backoff
  });
});
