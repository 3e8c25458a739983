import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../../src/api/app';
import { freePort } from '../../src/observability/free-port';
import { createApiClient } from '../../src/temporal/client';
import { adminApi, createSubscription } from '../support/outbound';
import { ADMIN_TOKEN, startHarness, testConfig, type Harness } from '../support/harness';

// Reads answer from state Temporal already has (memo via describe, visibility), never from the worker:
// here no worker polls the task queue at all once the subscriptions exist, and a query would never be answered.
let h: Harness;

beforeAll(async () => {
  h = await startHarness(testConfig(''));
});

afterAll(async () => {
  await h?.stop();
});

const fields = { url: 'https://example.com/hook', triggers: ['shop.*'] };

test(
  'with no worker polling: get, list and replay answer from memo and visibility, a new subscription at once',
  async () => {
    // Written while a worker runs: the workflow rewrites its memo with the update.
    const updated = await createSubscription(h, fields);
    const patch = await adminApi(h, 'PATCH', `/api/subscriptions/${updated}`, { name: 'Renamed while running' });
    expect(patch.statusCode).toBe(200);

    await h.worker!.shutdown();
    h.worker = undefined;

    // Created with no worker: its workflow has not run a single task.
    const created = await adminApi(h, 'POST', '/api/subscriptions', {
      ...fields,
      id: `fresh-${Date.now().toString(36)}`,
      name: 'Created while no worker runs',
      contactEmail: 'tech@example.com',
    });
    expect(created.statusCode).toBe(201);
    const fresh = created.json().id as string;

    const one = await adminApi(h, 'GET', `/api/subscriptions/${fresh}`);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: fresh, name: 'Created while no worker runs' });

    const renamed = await adminApi(h, 'GET', `/api/subscriptions/${updated}`);
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id: updated, name: 'Renamed while running' });

    const list = await adminApi(h, 'GET', '/api/subscriptions');
    expect(list.statusCode).toBe(200);
    expect(list.json().subscriptions).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: updated, name: 'Renamed while running' })]),
    );

    const replay = await adminApi(h, 'POST', `/api/subscriptions/${fresh}/replay`, {
      from: new Date(Date.now() - 3_600_000).toISOString(),
      to: new Date().toISOString(),
    });
    expect(replay.statusCode).toBe(202);

    const missing = await adminApi(h, 'GET', '/api/subscriptions/does-not-exist');
    expect(missing.statusCode).toBe(404);
  },
  // A query to a workflow nobody runs is never answered: the reads must be done well before this.
  25_000,
);

test('Temporal unreachable: subscription reads get 503 with Retry-After and a message, not a 500', async () => {
  const deadPort = await freePort(); // nothing listens here
  const config = testConfig(`server: { ackTimeout: PT1S }`);
  config.temporal.address = `127.0.0.1:${deadPort}`;
  const { client, connection } = createApiClient(config);
  const app = await buildApp({ config, client });
  try {
    for (const url of ['/api/subscriptions', '/api/subscriptions/some-id']) {
      const res = await app.inject({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ error: 'unavailable', message: expect.stringMatching(/retry later/) });
    }
  } finally {
    await app.close();
    await sleep(1500); // the client's bounded gRPC retries of the abandoned calls run out first
    await connection.close();
  }
});
