import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Agent } from 'undici';
import { createActivities } from '../../src/activities';
import { deliverySchedule } from '../../src/activities/fan-out';
import { parseConfig } from '../../src/config/load';
import { keyringFromConfig } from '../../src/security/keyring';
import type { DeliveryInput, DeliveryResult } from '../../src/shared/delivery';
import { createSubscriptionSchema } from '../../src/subscriptions/schema';
import { SubscriptionStore } from '../../src/subscriptions/store';
import { FakeHttpPeer, type RecordedRequest, type Responder } from '../support/fake-http';
import { startTestWorker, startTimeSkippingEnv } from '../support/time-skipping';

// The receiver is down on purpose for the first attempts, and the refresh fails on purpose.
const EXPECTED = new Set(['Activity failed', 'follow-up refresh failed: delivering the earlier snapshot']);
try {
  Runtime.install({
    logger: new DefaultLogger(
      'WARN',
      (entry) => void (EXPECTED.has(entry.message) || console.warn(entry.level, entry.message, entry.meta ?? '')),
    ),
  });
} catch {
  // already installed by an earlier test file in this process
}

const body = (request: RecordedRequest) => JSON.parse(request.body.toString('utf8'));

/**
 * docs/beyond-delivery.md "Fresh data at send time", the failed refreshes: `refreshFailed` is `not-found` (404/410, in
 * fresh-follow-up.test.ts), `unavailable` (5xx, 408, 429, timeouts, connection errors) or `rejected`
 * (other 4xx, a body that is not the JSON it says). With `refreshFollowUpAfter: PT1M` and a receiver
 * that answers attempts 1-2 (0 and 1 min) with 503, attempt 3 (3 min) is over a minute after the
 * fetch: it refreshes, the refresh fails, and it delivers the snapshot it has, saying why.
 */
describe('a failed refresh at send time (Java time-skipping test server)', () => {
  const key = randomBytes(32).toString('base64');
  let sourceApi: FakeHttpPeer;
  let receiver: FakeHttpPeer;
  let env: TestWorkflowEnvironment;
  let worker: { stop(): Promise<void> };
  const taskQueue = `timeskipping-${randomUUID()}`;
  const http = new Agent({ keepAliveTimeout: 1_000 });
  const keyring = keyringFromConfig([{ id: 'k1', key }]);
  let config: ReturnType<typeof parseConfig>;

  beforeAll(async () => {
    sourceApi = await new FakeHttpPeer().start();
    receiver = await new FakeHttpPeer().start();
    config = parseConfig(
      `security: { encryptionKeys: [{ id: k1, key: "${key}" }] }
network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }
sources:
  - id: erp
    kind: extend-commerce
    secret: extend-secret
    followUp: { urls: { OrderCreated: "${sourceApi.url}/orders/{OrderNumber}" } }
`,
      {},
      'test config',
    );
    env = await startTimeSkippingEnv();
    worker = await startTestWorker(env, taskQueue, createActivities({ config, http, client: env.client, keyring }));
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
    await http.close();
    await sourceApi?.stop();
    await receiver?.stop();
  });

  async function deliverWithFailingRefresh(orderNumber: string, source: Responder) {
    sourceApi.on(`/orders/${orderNumber}`, source);
    const path = `/hook/${randomUUID()}`;
    receiver.on(path, (request) => ({ status: Number(request.headers['x-hookflow-attempt']) <= 2 ? 503 : 200 }));
    const store = new SubscriptionStore(env.client, taskQueue, keyring);
    const subscription = await store.create(
      createSubscriptionSchema.parse({
        id: `sub-${randomUUID()}`,
        name: 'refresh failures',
        contactEmail: 'ops@example.com',
        url: `${receiver.url}${path}`,
        secret: 'shh',
        triggers: ['*'],
        signature: 'x-signature',
        refreshFollowUpAfter: 'PT1M',
      }),
    );
    const uuid = randomUUID();
    const fetchedAt = new Date(await env.currentTimeMs()).toISOString();
    const input: DeliveryInput = {
      subscriptionId: subscription.id,
      event: {
        id: `erp/${uuid}-0`,
        uuid,
        type: 'extend-commerce.OrderCreated',
        occurredAt: fetchedAt,
        source: { id: 'erp', kind: 'extend-commerce' },
        data: { Action: 'OrderCreated', Details: { OrderNumber: orderNumber } },
        followUp: { orderNumber, status: 'old' },
        fetchedAt,
        followUpSource: { sourceId: 'erp', url: `${sourceApi.url}/orders/${orderNumber}` },
      },
      schedule: deliverySchedule(subscription, config),
    };
    const handle = await env.client.workflow.start('deliveryWorkflow', {
      taskQueue,
      workflowId: `delivery-${uuid}`,
      args: [input],
    });
    const result = (await handle.result()) as DeliveryResult;
    const requests = receiver.requestsTo(path);
    return {
      result,
      fetchedAt,
      delivered: body(requests.at(-1)!),
      fetches: sourceApi.requestsTo(`/orders/${orderNumber}`),
    };
  }

  test.each([
    ['unavailable', '503', (() => ({ status: 503 })) as Responder],
    ['unavailable', '429', (() => ({ status: 429 })) as Responder],
    ['rejected', '403', (() => ({ status: 403 })) as Responder],
    [
      'rejected',
      'invalid JSON',
      (() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"orderNumber":' })) as Responder,
    ],
  ])(
    'refreshFailed: %s (the source answers %s): the snapshot from arrival is delivered, marked',
    async (reason, _what, source) => {
      const orderNumber = `SO-${randomUUID().slice(0, 8)}`;
      const { result, delivered, fetchedAt, fetches } = await deliverWithFailingRefresh(orderNumber, source);
      expect(result).toMatchObject({ status: 'delivered', attempt: 3, refreshFailed: reason, fetchedAt });
      expect(fetches.length).toBeGreaterThanOrEqual(1); // the refresh was tried
      expect(delivered).toMatchObject({ followUp: { orderNumber, status: 'old' }, fetchedAt, refreshFailed: reason });
    },
  );
});
