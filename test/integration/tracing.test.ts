import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter, type LogLevel, type LogMetadata } from '@temporalio/common';
import { Runtime, Worker } from '@temporalio/worker';
import { deliveryWorkflowId, type DeliveryResult } from '../../src/shared/delivery';
import { dataConverterFor } from '../../src/temporal/data-converter';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { subscribe } from '../support/outbound';
import { erpSourceYaml, extendBody, post, sign } from '../support/webhooks';

/** One span as the OTLP/HTTP JSON exporter sends it, its attributes flattened. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ attributes: Record<string, unknown> }>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };

const flatten = (attributes: OtlpAttribute[] = []) =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue)),
    ]),
  );

/** A trace collector on loopback: OTLP/HTTP with JSON bodies, as @opentelemetry/exporter-trace-otlp-http sends. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.contentTypes.add(String(req.headers['content-type']));
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const resource of body.resourceSpans ?? [])
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? [])
              this.spans.push({
                ...span,
                attributes: flatten(span.attributes),
                events: (span.events ?? []).map((e: { attributes?: OtlpAttribute[] }) => ({
                  attributes: flatten(e.attributes),
                })),
              });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const EXTEND_SECRET = 'extend-secret-trace-7d1f';
const SUBSCRIBER_SECRET = 'subscriber-secret-trace-93ab';
const BODY_MARKER = `body-marker-${randomUUID()}`;
const FOLLOW_UP_MARKER = `follow-up-marker-${randomUUID()}`;

let collector: OtlpReceiver;
let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let h: Harness;
/** Workflows that ran with tracing on (their histories carry trace headers and the interceptors' SDK flags). */
const traced: string[] = [];

beforeAll(async () => {
  collector = await new OtlpReceiver().start();
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer().start();
  h = await startHarness(
    testConfig(`
delivery: { oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT2S, window: PT20S } }
sources:
${erpSourceYaml(EXTEND_SECRET, sourceApi.url)}
  - { id: erp-main, kind: extend-commerce, secret: ${EXTEND_SECRET}, filter: { warehouses: [Main] } }
`),
    { otelEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'hookflow-test' } },
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await sourceApi?.stop();
  await collector?.stop();
});

/** The trace id a workflow was started with (its `_tracer-data` header), and that header's keys. */
async function startedTrace(workflowId: string) {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const fields = history.events![0]!.workflowExecutionStartedEventAttributes!.header?.fields ?? {};
  const carried = fields['_tracer-data']
    ? defaultPayloadConverter.fromPayload<Record<string, string>>(fields['_tracer-data'])
    : {};
  return { headers: Object.keys(fields), carried, traceId: carried.traceparent?.split('-')[1] };
}

/** What the worker logs (activities directly, workflows through the logger sink), whatever the level. */
function captureWorkerLogs() {
  const logger = Runtime.instance().logger;
  const original = logger.log.bind(logger);
  const lines: Array<{ message: string; meta: LogMetadata }> = [];
  logger.log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    lines.push({ message, meta: meta ?? {} });
    original(level, message, meta);
  };
  return { lines, restore: () => (logger.log = original) };
}

test('one webhook is one trace: request, inbound workflow, follow-up, planning, two deliveries and their attempts', async () => {
  expect(h.tracing).toBeDefined();
  sourceApi.on('/orders/T-1', () => ({ status: 200, body: { order: 'T-1', note: FOLLOW_UP_MARKER } }));
  const triggers = ['extend-commerce.OrderCreated'];
  const fields = { secret: SUBSCRIBER_SECRET, triggers, retryPolicy: 'one-day' };
  const steady = await subscribe(h, receiver, () => ({ status: 200 }), fields);
  let calls = 0;
  const flaky = await subscribe(h, receiver, () => ({ status: ++calls === 1 ? 503 : 200 }), fields);

  const workerLogs = captureWorkerLogs();
  const body = JSON.stringify(
    extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'T-1', Comment: BODY_MARKER } }]),
  );
  const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms(EXTEND_SECRET, body) });
  expect(res.statusCode).toBe(202);
  const inboundId: string = res.json().events[0].workflowId;
  const eventId = `erp/${JSON.parse(body).Properties.NotificationId}-0`;
  await h.client.workflow.getHandle(inboundId).result();
  traced.push(inboundId, ...[steady, flaky].map((sub) => deliveryWorkflowId(eventId, sub.id)));
  for (const sub of [steady, flaky]) {
    const result: DeliveryResult = await h.client.workflow.getHandle(deliveryWorkflowId(eventId, sub.id)).result();
    expect(result).toMatchObject({ status: 'delivered', attempt: sub === flaky ? 2 : 1 });
  }
  workerLogs.restore();

  // The request span is the root; everything below it shares its trace id.
  const request = await eventually(async () => {
    await h.tracing!.flush();
    return collector.spans.find((s) => s.name === 'POST /webhooks/:sourceId');
  }, 'the request span');
  const traceId = request.traceId;
  const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
  const named = (name: string) => inTrace().filter((s) => s.name === name);
  const one = (name: string, parent: ReceivedSpan) => {
    const spans = named(name).filter((s) => s.parentSpanId === parent.spanId);
    expect({ name, count: spans.length }).toEqual({ name, count: 1 });
    return spans[0]!;
  };
  // Workflow spans arrive when each workflow ends; attempts when they end: wait for the last ones.
  await eventually(async () => {
    await h.tracing!.flush();
    return named('RunWorkflow:deliveryWorkflow').length === 2 && named('RunActivity:deliver').length === 3;
  }, 'the delivery spans');

  expect(request.parentSpanId || undefined).toBeUndefined();
  expect(request.kind).toBe(2); // SERVER
  expect(request.attributes).toMatchObject({
    'http.request.method': 'POST',
    'http.route': '/webhooks/:sourceId',
    'http.response.status_code': 202,
    'hookflow.source': 'erp',
    'hookflow.webhook.verified': true,
  });

  const start = one('StartWorkflow:inboundWorkflow', request);
  const inbound = one('RunWorkflow:inboundWorkflow', start);
  expect(inbound.attributes).toMatchObject({ workflowId: inboundId });
  const fetchStart = one('StartActivity:fetchFollowUp', inbound);
  const fetch = one('RunActivity:fetchFollowUp', fetchStart);
  expect(fetch.attributes).toMatchObject({ 'http.response.status_code': 200, 'hookflow.source': 'erp' });
  const planStart = one('StartActivity:planDeliveries', inbound);
  const plan = one('RunActivity:planDeliveries', planStart);

  // The planning activity starts the direct deliveries with the client: their starts are its children.
  const deliveryStarts = named('StartWorkflow:deliveryWorkflow').filter((s) => s.parentSpanId === plan.spanId);
  expect(deliveryStarts).toHaveLength(2);
  const deliveries = deliveryStarts.map((deliveryStart) => one('RunWorkflow:deliveryWorkflow', deliveryStart));
  expect(deliveries.map((d) => d.attributes.workflowId).sort()).toEqual(
    [steady, flaky].map((sub) => deliveryWorkflowId(eventId, sub.id)).sort(),
  );

  const attemptsOf = (sub: { id: string }) => {
    const delivery = deliveries.find((d) => d.attributes.workflowId === deliveryWorkflowId(eventId, sub.id))!;
    const starts = named('StartActivity:deliver').filter((s) => s.parentSpanId === delivery.spanId);
    // The first attempt (a local activity), then after a failure one scheduled activity that Temporal retries.
    expect(starts.length).toBeLessThanOrEqual(2);
    const startIds = new Set(starts.map((s) => s.spanId));
    return named('RunActivity:deliver')
      .filter((s) => startIds.has(s.parentSpanId!))
      .map((s) => s.attributes)
      .sort((a, b) => Number(a['hookflow.attempt']) - Number(b['hookflow.attempt']));
  };
  expect(attemptsOf(steady)).toEqual([
    expect.objectContaining({
      'hookflow.attempt': 1,
      'hookflow.subscription_id': steady.id,
      'http.response.status_code': 200,
      'hookflow.attempt.outcome': 'delivered',
      'hookflow.attempt.duration_ms': expect.any(Number),
    }),
  ]);
  expect(attemptsOf(flaky)).toEqual([
    expect.objectContaining({
      'hookflow.attempt': 1,
      'http.response.status_code': 503,
      'hookflow.attempt.outcome': 'retry',
      'hookflow.failure_type': 'Http503',
    }),
    expect.objectContaining({ 'hookflow.attempt': 2, 'http.response.status_code': 200 }),
  ]);

  // Receivers can continue the trace: each attempt's request carried its span as traceparent.
  const attemptSpanIds = new Set(named('RunActivity:deliver').map((s) => s.spanId));
  const sent = [...steady.requests(), ...flaky.requests()];
  expect(sent).toHaveLength(3);
  for (const r of sent) {
    const [version, trace, parent, flags] = String(r.headers.traceparent).split('-');
    expect({ version, trace, flags }).toEqual({ version: '00', trace: traceId, flags: '01' });
    expect(attemptSpanIds.has(parent!)).toBe(true);
  }
  // The source's API is not told about our traces.
  expect(sourceApi.requestsTo('/orders/T-1')[0]?.headers.traceparent).toBeUndefined();

  // No secret, credential or body in any span of any trace.
  const exported = JSON.stringify(collector.spans.map((s) => [s.name, s.attributes, s.events]));
  for (const secret of [EXTEND_SECRET, SUBSCRIBER_SECRET, BODY_MARKER, FOLLOW_UP_MARKER, 'T-1'])
    expect(exported).not.toContain(secret);
  expect([...collector.contentTypes]).toEqual(['application/json']);

  // Activity and workflow log lines of this event carry its trace id.
  const logged = (message: string) => workerLogs.lines.filter((l) => l.message === message);
  expect(logged('follow-up fetched').map((l) => l.meta.trace_id)).toEqual([traceId]);
  expect(logged('delivery attempt').map((l) => l.meta.trace_id)).toEqual([traceId, traceId, traceId]);

  // The header Temporal carries in the clear (the codec encrypts payloads, not headers): a traceparent only.
  const started = await startedTrace(inboundId);
  expect(started.headers).toEqual(['_tracer-data']);
  expect(Object.keys(started.carried)).toEqual(['traceparent']);
  expect(started.traceId).toBe(traceId);
});

test("a workflow's own log lines (through the logger sink) carry its trace id", async () => {
  const workerLogs = captureWorkerLogs();
  const body = JSON.stringify(
    extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'F-1', Warehouse: 'Far' } }]),
  );
  const res = await post(h.app, '/webhooks/erp-main', body, { 'ms-signature': sign.ms(EXTEND_SECRET, body) });
  expect(res.statusCode).toBe(202);
  const workflowId: string = res.json().events[0].workflowId;
  expect(await h.client.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'filtered' });
  workerLogs.restore();
  const { traceId } = await startedTrace(workflowId);
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  const filtered = workerLogs.lines.filter((l) => l.message === 'event filtered out');
  expect(filtered.map((l) => [l.meta.workflowId, l.meta.trace_id])).toEqual([[workflowId, traceId]]);
});

test('tracing can be turned off again: histories recorded with it replay without the interceptors', async () => {
  expect(traced).toHaveLength(3);
  for (const workflowId of traced) {
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! }, dataConverter: dataConverterFor(h.config) },
      history,
      workflowId,
    );
  }
});
