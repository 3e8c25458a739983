import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';
import { freePort } from '../../src/observability/free-port';
import { SUBSCRIPTION_LABEL_CAP } from '../../src/observability/subscription-label';
import { startWorker, type RunningWorker } from '../../src/worker';
import { FakeHttpPeer } from '../support/fake-http';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * The dashboard (deploy/grafana) and the alert rules (deploy/prometheus) name only metrics that the API
 * and the worker export. The stack runs as in production, without the test harness: the harness
 * installs the Temporal Runtime itself, and then the worker cannot enable core's Prometheus exporter
 * (the `temporal_*` names the dashboard uses).
 */
const ROOT = join(__dirname, '../..');
const TOKEN = 'metrics-admin-token-0123456789';
const SECRET = 'metrics-source-secret';
let receiver: FakeHttpPeer;
let connection: Connection;
let app: HookflowApp;
let worker: RunningWorker;
let client: Client;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  const config = parseConfig(
    `
security: { encryptionKeys: [{ id: k1, key: "${randomBytes(32).toString('base64')}" }] }
admin: { token: ${TOKEN} }
network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }
metrics: { workerPort: ${await freePort()} }
logging: { level: error }
delivery: { oneDay: { initialInterval: PT1S, maximumInterval: PT2S, window: PT10M } }
sources:
  - { id: erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [GreenWarehouse] } }
`,
    {
      TEMPORAL_ADDRESS: process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS!,
      HOOKFLOW_TASK_QUEUE: `test-${randomUUID()}`,
    },
    'metrics test config',
  );
  connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  app = await buildApp({ config, client });
  worker = await startWorker(config, { workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! } });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await worker?.shutdown();
  await connection?.close();
  await receiver?.stop();
});

const admin = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    payload: body ? JSON.stringify(body) : undefined,
  });

async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function subscribe(status: number): Promise<string> {
  const id = `metrics-${status}-${randomUUID().slice(0, 8)}`;
  receiver.on(`/${id}`, () => ({ status }));
  const res = await admin('POST', '/api/subscriptions', {
    id,
    name: id,
    contactEmail: 'tech@example.com',
    url: `${receiver.url}/${id}`,
    secret: 'subscriber-secret-123',
    triggers: ['shop.*'],
  });
  expect(res.statusCode).toBe(201);
  // Fan-out finds subscriptions in visibility: wait until this one is there.
  await eventually(
    async () =>
      (await client.workflow.count(`WorkflowId = 'subscription/${id}' AND ExecutionStatus = 'Running'`)).count === 1,
    `${id} in visibility`,
  );
  return id;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const scrapeApi = async () => (await app.inject('/metrics')).body;
const scrapeWorker = async () => (await fetch(worker.metricsUrl!)).text();

/** Every PromQL expression of the dashboard and of the alert rules. */
function expressions(): string[] {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/hookflow-dashboard.json'), 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
  };
  const rules = parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ expr: string }> }>;
  };
  return [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
  ];
}

test('every metric the dashboard and the alert rules use is exported by the API or the worker', async () => {
  const ok = await subscribe(200);
  const failing = await subscribe(503);
  const published = await admin('POST', '/api/events', { type: 'shop.OrderPaid', data: { orderNumber: 'SO-M1' } });
  expect(published.statusCode).toBe(202);
  const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: `M-${randomUUID()}` } }]));
  expect((await post(app, '/webhooks/erp', body, { 'ms-signature': sign.ms(SECRET, body) })).statusCode).toBe(202);
  expect((await post(app, '/webhooks/erp', body, { 'ms-signature': sign.ms(SECRET, body) })).statusCode).toBe(202);
  expect((await post(app, '/webhooks/erp', body, { 'ms-signature': sign.ms('wrong', body) })).statusCode).toBe(401);
  const elsewhere = JSON.stringify(
    extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: `M-${randomUUID()}`, Warehouse: 'YX' } }]),
  );
  expect((await post(app, '/webhooks/erp', elsewhere, { 'ms-signature': sign.ms(SECRET, elsewhere) })).statusCode).toBe(
    202,
  );
  // Each inbound outcome once (the first notification twice: a duplicate), the one for warehouse YX filtered.
  const text = await scrapeApi();
  const inbound = (name: string) =>
    samples(text).find((x) => x.name === `hookflow_webhooks_${name}_total` && x.labels.source === 'erp')?.value;
  expect([inbound('accepted'), inbound('duplicates'), inbound('filtered'), inbound('rejected')]).toEqual([2, 1, 1, 1]);

  // The backlog gauges are read once per 15 s: scrape once the failing delivery is in backoff (its second attempt).
  await eventually(async () => receiver.requestsTo(`/${failing}`).length >= 2, 'a retry at the failing receiver');
  await eventually(async () => {
    const s = samples(await scrapeWorker());
    const delivered = s.find(
      (x) =>
        x.name === 'hookflow_subscription_deliveries_total' &&
        x.labels.subscription === ok &&
        x.labels.outcome === 'delivered',
    );
    const failed = s.find(
      (x) =>
        x.name === 'hookflow_subscription_attempt_duration_seconds_count' &&
        x.labels.subscription === failing &&
        x.labels.class === '5xx',
    );
    const waiting = s.find((x) => x.name === 'hookflow_subscription_in_backoff' && x.labels.subscription === failing);
    return delivered && failed && waiting;
  }, 'a delivered and a failing subscription in the worker metrics');

  const exported = new Set([...samples(await scrapeApi()), ...samples(await scrapeWorker())].map((s) => s.name));
  const exprs = expressions();
  expect(exprs.length).toBeGreaterThan(10);
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(?:hookflow|temporal)_\w+/g)].map((m) => m[0])));
  expect([...used].filter((name) => name.startsWith('temporal_'))).not.toEqual([]);
  expect([...used].filter((name) => !exported.has(name))).toEqual([]);
}, 180_000);

test('series stay bounded: event ids never become labels, subscriptions beyond the cap share "other"', async () => {
  const ids = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      admin('POST', '/api/events', { type: 'shop.OrderPaid', data: { orderNumber: `SO-B${i}` } }),
    ),
  );
  const eventIds = ids.map((r) => r.json().eventId as string);
  // Every one of them delivered to the first subscription (and attempted at the failing one) first.
  await eventually(async () => {
    const delivered = samples(await scrapeWorker()).filter(
      (x) => x.name === 'hookflow_subscription_deliveries_total' && x.labels.outcome === 'delivered',
    );
    return delivered.reduce((sum, x) => sum + x.value, 0) >= 1 + eventIds.length;
  }, 'the events delivered');
  const all = samples(await scrapeWorker()).filter((s) => s.name.startsWith('hookflow_'));
  const perSubscription = all.filter((s) => s.labels.subscription !== undefined);
  const subscriptions = new Set(perSubscription.map((s) => s.labels.subscription));
  expect(subscriptions.size).toBeLessThanOrEqual(SUBSCRIPTION_LABEL_CAP + 1);
  for (const s of all) for (const value of Object.values(s.labels)) expect(eventIds).not.toContain(value);
  // Every family stays small: per subscription x outcome class x bucket, never per event.
  expect(all.length).toBeLessThan(2_000);
}, 180_000);
