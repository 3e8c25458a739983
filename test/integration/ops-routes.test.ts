import { Client, Connection } from '@temporalio/client';
import { buildApp, buildOpsApp, type HookflowApp } from '../../src/api/app';
import type { HookflowConfig } from '../../src/config/schema';
import { startApi } from '../../src/api/server';
import { testConfig } from '../support/harness';

/**
 * /metrics, /readyz and /docs reveal source ids and every route: production serves
 * them behind `server.ops.token` or on their own listener (`server.ops.port`), never open on the webhook
 * port. /healthz stays open everywhere: it says nothing but "alive".
 */

const OPS_TOKEN = 'ops-token-0123456789abcdef';
const OPS_PATHS = ['/metrics', '/readyz', '/docs/json', '/docs'];
let connection: Connection;
let client: Client;
const apps: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  connection = await Connection.connect({ address: testConfig('').temporal.address });
  client = new Client({ connection });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await connection.close();
});

async function build(yaml: string): Promise<{ config: HookflowConfig; app: HookflowApp }> {
  const config = testConfig(`${yaml}\nsources: [{ id: secret-erp-id, kind: extend-commerce, secret: s }]`);
  const app = await buildApp({ config, client });
  apps.push(app);
  return { config, app };
}

test('development default: served on the API port, open', async () => {
  const { app } = await build('');
  const statuses = [];
  for (const url of OPS_PATHS) statuses.push({ url, status: (await app.inject(url)).statusCode });
  expect(statuses).toEqual(OPS_PATHS.map((url) => ({ url, status: 200 })));
  const doc = await app.inject('/docs/json');
  expect(doc.json().paths).toHaveProperty(['/webhooks/{sourceId}']);
  expect((await app.inject('/docs')).body).toMatch(/swagger-ui/i);
});

test('server.ops.token: every ops route needs the bearer token; /healthz and webhooks do not', async () => {
  const { app } = await build(`server: { ops: { token: ${OPS_TOKEN} } }`);
  for (const url of OPS_PATHS) {
    const open = await app.inject(url);
    expect({ url, status: open.statusCode }).toEqual({ url, status: 401 });
    expect(open.body).not.toContain('secret-erp-id');
    expect({
      url,
      status: (await app.inject({ url, headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode,
    }).toEqual({ url, status: 401 });
    expect({
      url,
      status: (await app.inject({ url, headers: { authorization: `Bearer ${OPS_TOKEN}` } })).statusCode,
    }).toEqual({ url, status: 200 });
  }
  const docs = await app.inject({ url: '/docs', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
  expect(docs.body).toMatch(/swagger-ui/i);
  const metrics = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
  expect(metrics.statusCode).toBe(200);
  expect((await app.inject({ url: '/readyz', headers: { authorization: `Bearer ${OPS_TOKEN}` } })).statusCode).toBe(
    200,
  );
  expect((await app.inject({ url: '/docs/json', headers: { authorization: `Bearer ${OPS_TOKEN}` } })).statusCode).toBe(
    200,
  );
  expect((await app.inject('/healthz')).statusCode).toBe(200);
  // A webhook without credentials is still a 401 of the webhook route, not of the ops token.
  expect(
    (
      await app.inject({
        method: 'POST',
        url: '/webhooks/secret-erp-id',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      })
    ).json().message,
  ).toMatch(/ms-signature/);
});

test('server.ops.port: nothing of it on the webhook port; the ops listener serves it, with the API document', async () => {
  const { config, app } = await build('server: { ops: { port: 0 } }');
  for (const url of OPS_PATHS)
    expect({ url, status: (await app.inject(url)).statusCode }).toEqual({ url, status: 404 });
  expect((await app.inject('/healthz')).statusCode).toBe(200);

  const ops = await buildOpsApp({ config, client, api: app });
  apps.push(ops);
  expect((await ops.inject('/metrics')).statusCode).toBe(200);
  expect((await ops.inject('/readyz')).statusCode).toBe(200);
  expect((await ops.inject('/healthz')).statusCode).toBe(200);
  const doc = await ops.inject('/docs/json');
  expect(doc.statusCode).toBe(200);
  expect(doc.json().paths).toHaveProperty(['/webhooks/{sourceId}']);
  expect((await ops.inject('/docs')).statusCode).toBe(200);
  expect(
    (
      await ops.inject({
        method: 'POST',
        url: '/webhooks/secret-erp-id',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      })
    ).statusCode,
  ).toBe(404);
});

test('startApi with server.ops.port listens twice on loopback: webhooks on one port, ops routes on the other', async () => {
  const api = await startApi(
    testConfig(
      `server: { port: 0, ops: { port: 0, host: 127.0.0.1 } }\nsources: [{ id: erp, kind: extend-commerce, secret: s }]`,
    ),
  );
  try {
    expect(api.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(api.opsUrl).not.toBe(api.url);
    expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${api.opsUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${api.opsUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  } finally {
    await api.close();
  }
});
