import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { Agent } from 'undici';
import { createActivities } from '../../src/activities';
import { deliverySchedule } from '../../src/activities/fan-out';
import { parseConfig } from '../../src/config/load';
import { keyringFromConfig } from '../../src/security/keyring';
import type { DeliveryInput, DeliveryResult } from '../../src/shared/delivery';
import { createSubscriptionSchema } from '../../src/subscriptions/schema';
import { SubscriptionStore } from '../../src/subscriptions/store';
import { FakeHttpPeer, type RecordedRequest } from '../support/fake-http';
import { startTimeSkippingEnv } from '../support/time-skipping';

// The receivers are down on purpose: their failed attempts are expected (and so is the failed refresh's warning).
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

const HOUR = 3_600_000;
const body = (request: RecordedRequest) => JSON.parse(request.body.toString('utf8'));

/**
 * docs/beyond-delivery.md "Fresh data at send time", over skipped time: the default `one-day` schedule (attempts at 0, 1, 3,
 * 7, 15, 31, 63, 127, 247 min) against a receiver that is down for the first 3 hours (attempts 1-8 answer
 * 503; attempt 9, at 4 h 7 min, is answered), while the order changes in the source system meanwhile.
 */
describe('refreshFollowUpAfter (Java time-skipping test server)', () => {
  const key = randomBytes(32).toString('base64');
  let sourceApi: FakeHttpPeer;
  let receiver: FakeHttpPeer;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
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
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! },
      activities: createActivities({ config, http, client: env.client, keyring }),
    });
    running = worker.run();
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await env?.teardown();
    await http.close();
    await sourceApi?.stop();
    await receiver?.stop();
  });

  /**
   * A delivery of an OrderCreated whose follow-up was fetched when it arrived (`old`), as the inbound
   * workflow hands it on, to a subscription with these fields; the receiver answers 503 up to attempt `downUntil`.
   */
  async function deliverAfterOutage(orderNumber: string, fields: Record<string, unknown>, downUntil = 8) {
    const path = `/hook/${randomUUID()}`;
    receiver.on(path, (request) => ({
      status: Number(request.headers['x-hookflow-attempt']) <= downUntil ? 503 : 200,
    }));
    const store = new SubscriptionStore(env.client, taskQueue, keyring);
    const subscription = await store.create(
      createSubscriptionSchema.parse({
        id: `sub-${randomUUID()}`,
        name: 'fresh data',
        contactEmail: 'ops@example.com',
        url: `${receiver.url}${path}`,
        secret: 'shh',
        triggers: ['*'],
        signature: 'x-signature',
        ...fields,
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
      requests,
      fetchedAt,
      delivered: body(requests.at(-1)!),
      fetches: sourceApi.requestsTo(`/orders/${orderNumber}`),
    };
  }

  test('a receiver down for 3 h gets the order as it is when the attempt is made, with a later fetchedAt', async () => {
    let version = 0;
    sourceApi.on('/orders/SO-1', () => ({
      status: 200,
      body: { orderNumber: 'SO-1', status: 'shipped', version: ++version },
    }));
    const { result, requests, fetchedAt, delivered, fetches } = await deliverAfterOutage('SO-1', {
      refreshFollowUpAfter: 'PT1H',
    });

    expect(result).toMatchObject({ status: 'delivered', attempt: 9 });
    // Attempts 1-6 (0-31 min) start within the hour: they carry the snapshot from arrival. Attempts 8 and 9
    // (127, 247 min) start more than an hour after the fetch: each fetches the order again first. Attempt 7
    // (63 min) too on a real server; the time-skipping server's clock for an activity (its attempt's scheduled
    // time) is, for a retry, when the previous attempt failed (31 min), so there it may not.
    const statuses = requests.map((r) => body(r).followUp.status);
    expect(statuses.slice(0, 6)).toEqual(Array(6).fill('old'));
    expect(statuses.slice(7)).toEqual(['shipped', 'shipped']);
    expect(fetches.length).toBe(statuses.filter((s) => s === 'shipped').length);
    expect(delivered.followUp).toEqual({ orderNumber: 'SO-1', status: 'shipped', version: fetches.length });
    // The delivered snapshot is at least 2 h newer than the one from arrival (3 h and more on a real server).
    expect(Date.parse(delivered.fetchedAt) - Date.parse(fetchedAt)).toBeGreaterThanOrEqual(2 * HOUR);
    expect(body(requests[0]!).fetchedAt).toBe(fetchedAt);
    expect(result.fetchedAt).toBe(delivered.fetchedAt);
    expect(delivered.refreshFailed).toBeUndefined();
  });

  test('a refresh that fails (404 now) delivers the snapshot it has, marked refreshFailed', async () => {
    sourceApi.on('/orders/SO-2', () => ({ status: 404 }));
    const { result, delivered, fetchedAt, fetches } = await deliverAfterOutage('SO-2', {
      refreshFollowUpAfter: 'PT1H',
    });
    expect(result).toMatchObject({ status: 'delivered', attempt: 9, refreshFailed: 'not-found', fetchedAt });
    expect(fetches.length).toBeGreaterThanOrEqual(2); // attempts 8 and 9 (and 7, see above)
    expect(delivered).toMatchObject({
      followUp: { orderNumber: 'SO-2', status: 'old' },
      fetchedAt,
      refreshFailed: 'not-found',
    });
  });

  test('without refreshFollowUpAfter the snapshot from arrival is delivered, however late', async () => {
    sourceApi.on('/orders/SO-3', () => ({ status: 200, body: { orderNumber: 'SO-3', status: 'shipped' } }));
    const { result, delivered, fetchedAt, fetches } = await deliverAfterOutage('SO-3', {});
    expect(result).toMatchObject({ status: 'delivered', attempt: 9 });
    expect(fetches).toHaveLength(0);
    expect(delivered).toMatchObject({ followUp: { orderNumber: 'SO-3', status: 'old' }, fetchedAt });
  });
});
