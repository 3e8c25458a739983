import { randomUUID } from 'node:crypto';
import { freePort } from '../../src/observability/free-port';
import { setCoreMetricsUrl } from '../../src/observability/metrics';
import { FakeHttpPeer } from '../support/fake-http';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription, publish } from '../support/outbound';
import { erpSourceYaml, extendBody, post, sign } from '../support/webhooks';

const SECRET = 'extend-secret-obs';
let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let h: Harness;
let workerPort: number;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer(() => ({ status: 200, body: { ok: true } })).start();
  workerPort = await freePort();
  h = await startHarness(
    testConfig(`
metrics: { workerPort: ${workerPort} }
sources:
${erpSourceYaml(SECRET, sourceApi.url)}
  - { id: limited, kind: extend-commerce, secret: ${SECRET}, rateLimit: { max: 3, window: PT1M } }
  - { id: other, kind: extend-commerce, secret: ${SECRET} }
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await sourceApi?.stop();
});

/** The value of one sample in Prometheus text format (0 when absent); `labels` must all match. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return 0;
}

const apiMetrics = async () => {
  const res = await h.app.inject('/metrics');
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
};
const workerMetrics = async () => (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text();

function postExtend(source: string, body: unknown, secret = SECRET) {
  const text = JSON.stringify(body);
  return post(h.app, `/webhooks/${source}`, text, { 'ms-signature': sign.ms(secret, text) });
}

describe('metrics', () => {
  test('one accepted and one badly signed webhook move the counters by exactly that', async () => {
    const before = await apiMetrics();
    const orderNumber = `OBS-${randomUUID()}`;
    const ok = await postExtend('erp', extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: orderNumber } }]));
    expect(ok.statusCode).toBe(202);
    const bad = await postExtend(
      'erp',
      extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'X' } }]),
      'wrong-secret',
    );
    expect(bad.statusCode).toBe(401);
    const after = await apiMetrics();

    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('hookflow_webhooks_received_total', { source: 'erp' })).toBe(2);
    expect(delta('hookflow_webhooks_accepted_total', { source: 'erp' })).toBe(1);
    expect(delta('hookflow_webhooks_rejected_total', { source: 'erp', reason: 'unauthorized' })).toBe(1);
    expect(delta('hookflow_ack_duration_seconds_count', { source: 'erp' })).toBe(1);

    // The follow-up fetch is measured on the worker (same registry in-process, and its own endpoint).
    await h.client.workflow.getHandle(ok.json().events[0].workflowId).result();
    expect(sourceApi.requestsTo(`/orders/${orderNumber}`)).toHaveLength(1);
    expect(
      sample(await workerMetrics(), 'hookflow_followup_fetches_total', { outcome: 'fetched' }),
    ).toBeGreaterThanOrEqual(1);
  });

  test('rejections carry the code of their response, repeats count as duplicates, other routes count nothing', async () => {
    const before = await apiMetrics();
    const text = 'not json';
    const invalid = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms(SECRET, text) });
    expect(invalid.statusCode).toBe(400);
    const unknown = await postExtend(
      'nowhere',
      extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'X' } }]),
    );
    expect(unknown.statusCode).toBe(404);
    const body = extendBody([
      { Action: 'OrderCreated', Details: { OrderNumber: `DUP-${randomUUID()}`, Warehouse: 'W' } },
    ]);
    expect((await postExtend('other', body)).json().events[0].duplicate).toBe(false);
    expect((await postExtend('other', body)).json().events[0].duplicate).toBe(true);
    expect((await h.app.inject('/healthz')).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: '/webhooks' })).statusCode).toBe(404);
    const after = await apiMetrics();

    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('hookflow_webhooks_rejected_total', { source: 'erp', reason: invalid.json().error })).toBe(1);
    expect(delta('hookflow_webhooks_rejected_total', { source: '(unknown)', reason: unknown.json().error })).toBe(1);
    expect(delta('hookflow_webhooks_received_total', { source: '(unknown)' })).toBe(1);
    expect(delta('hookflow_webhooks_received_total', { source: 'other' })).toBe(2);
    expect(delta('hookflow_webhooks_accepted_total', { source: 'other' })).toBe(1);
    expect(delta('hookflow_webhooks_duplicates_total', { source: 'other' })).toBe(1);
  });

  test('a delivered webhook shows as a delivery outcome in the worker registry', async () => {
    const read = async () => {
      const text = await workerMetrics();
      return {
        delivered: sample(text, 'hookflow_deliveries_total', { outcome: 'delivered' }),
        attempts: sample(text, 'hookflow_delivery_attempts_total'),
      };
    };
    const before = await read();
    const path = `/hook/${randomUUID()}`;
    receiver.on(path, () => ({ status: 200 }));
    await createSubscription(h, {
      url: `${receiver.url}${path}`,
      secret: 'subscriber-secret-123',
      triggers: ['shop.*'],
    });
    const { workflowId } = await publish(h, { type: 'shop.OrderPaid', data: { orderNumber: 'SO-OBS' } });
    await h.client.workflow.getHandle(workflowId).result();
    // Fan-out only starts the delivery workflow: wait for the receiver, then for the attempt to be counted.
    for (let i = 0; i < 100 && (await read()).delivered === before.delivered; i++)
      await new Promise((r) => setTimeout(r, 100));
    const after = await read();
    expect(receiver.requestsTo(path)).toHaveLength(1);
    expect(after.delivered - before.delivered).toBe(1);
    expect(after.attempts - before.attempts).toBe(1);
    const text = await workerMetrics();
    expect(text).toMatch(/^hookflow_delivery_duration_seconds_count\{outcome="delivered"\} \d+/m);
    // In-process the API shares the registry, as in the single-process Quick start.
    expect(sample(await apiMetrics(), 'hookflow_deliveries_total', { outcome: 'delivered' })).toBe(after.delivered);
  });

  test("Temporal core's metrics are appended to the worker's when its exporter is on", async () => {
    const core = await new FakeHttpPeer(() => ({
      status: 200,
      body: '# TYPE temporal_fake_total counter\ntemporal_fake_total 3\n',
    })).start();
    try {
      setCoreMetricsUrl(`${core.url}/metrics`);
      const text = await workerMetrics();
      expect(text).toMatch(/^temporal_fake_total 3$/m);
      expect(text).toMatch(/^# TYPE hookflow_deliveries_total counter$/m);
    } finally {
      setCoreMetricsUrl(undefined);
      await core.stop();
    }
  });
});

describe('rate limit', () => {
  test('a source over its own limit gets 429 with Retry-After; another source is unaffected', async () => {
    const before = sample(await apiMetrics(), 'hookflow_webhooks_rejected_total', {
      source: 'limited',
      reason: 'rate_limited',
    });
    // The limit counts the notifications of authenticated requests (3 here), never failed ones.
    const body = () => extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'RL', Warehouse: 'W' } }]);
    expect((await postExtend('limited', body(), 'wrong')).statusCode).toBe(401);
    for (let i = 0; i < 3; i++) expect((await postExtend('limited', body())).statusCode).toBe(202);
    const limited = await postExtend('limited', body());
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toEqual({
      error: 'rate_limited',
      message: expect.stringMatching(/limited.*rate limit of 3/),
    });
    expect((await postExtend('other', body(), 'wrong')).statusCode).toBe(401);
    expect(
      sample(await apiMetrics(), 'hookflow_webhooks_rejected_total', { source: 'limited', reason: 'rate_limited' }) -
        before,
    ).toBe(1);
  });
});

describe('OpenAPI', () => {
  test('/docs/json documents every route with its schemas, /api behind bearerAuth', async () => {
    const res = await h.app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('hookflow');
    for (const path of [
      '/webhooks/{sourceId}',
      '/api/subscriptions',
      '/api/subscriptions/{id}',
      '/api/events',
      '/api/deliveries/{id}',
      '/healthz',
      '/readyz',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
    expect(doc.paths).not.toHaveProperty(['/metrics']);
    expect(doc.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(doc.paths['/api/events'].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/healthz'].get.security).toBeUndefined();
    expect(doc.paths['/api/events'].post.requestBody.content['application/json'].schema.properties).toHaveProperty(
      'type',
    );
    expect(doc.paths['/webhooks/{sourceId}'].post.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'sourceId', in: 'path' })]),
    );
    expect((await h.app.inject('/docs')).statusCode).toBeLessThan(400);
  });
});
