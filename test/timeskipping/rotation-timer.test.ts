import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getSubscriptionQuery, type Subscription } from '../../src/shared/subscription';
import { quietExpectedFailures, startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

/**
 * The subscription workflow's rotation timer on the time-skipping server: a next secret becomes the
 * secret when its switch time comes, with no traffic and no operator call (docs/security.md).
 */

quietExpectedFailures();

const taskQueue = `rotation-${randomUUID()}`;
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startTestWorker>> | undefined;

beforeAll(async () => {
  env = await startTimeSkippingEnv();
  // No test events are sent here: a stand-in so the worker polls activities (and says nothing about it).
  worker = await startTestWorker(env, taskQueue, { planDeliveries: async () => ({ planned: [] }) });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

test('the next secret becomes the secret at overlapUntil, a day after it was set', async () => {
  const now = await env.currentTimeMs();
  const overlapUntil = new Date(now + 24 * 3_600_000).toISOString();
  const subscription: Subscription = {
    id: 'rotating',
    name: 'Rotating',
    contactEmail: 'ops@example.com',
    url: 'https://receiver.example.com/hook',
    secret: 'sealed:v1:k1:old',
    nextSecret: 'sealed:v1:k1:new',
    overlapUntil,
    active: true,
    triggers: ['*'],
    filter: {},
    retryPolicy: 'one-day',
    auth: { type: 'none' },
    timeoutMs: 30_000,
    signature: 'standard-webhooks',
    tls: { verify: true },
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
  const handle = await env.client.workflow.start('subscriptionWorkflow', {
    taskQueue,
    workflowId: `subscription/rotating-${randomUUID()}`,
    args: [{ subscription }],
  });
  expect(await handle.query(getSubscriptionQuery)).toMatchObject({ secret: 'sealed:v1:k1:old', overlapUntil });

  await env.sleep('23 hours');
  expect(await handle.query(getSubscriptionQuery)).toMatchObject({ nextSecret: 'sealed:v1:k1:new' });

  await env.sleep('2 hours');
  const promoted = await handle.query(getSubscriptionQuery);
  expect(promoted).toMatchObject({ secret: 'sealed:v1:k1:new' });
  expect(promoted).not.toHaveProperty('nextSecret');
  expect(promoted).not.toHaveProperty('overlapUntil');
  await handle.terminate();
});
