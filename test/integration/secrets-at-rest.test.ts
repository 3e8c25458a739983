import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { subscriptionWorkflowId } from '../../src/shared/subscription';
import { startDevServer, type DevServer } from '../../src/stack/dev-server';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * The secrets-at-rest proof (docs/security.md): after a full inbound + delivery run on a dev server
 * with SQLite persistence, neither `temporal workflow show` nor the database files contain the
 * subscription secret or a distinctive string of the webhook body. A control payload written without
 * the codec is found by the same searches, so they can see plain text when it is there. Failure
 * messages are encrypted too: a follow-up 404 whose URL query carries a marker appears in neither, while
 * the API still shows the operator the decrypted message. A subscriber's 503 retried (Temporal keeps the
 * last failure of the pending attempt) is the exception by design: its one-line message, built from the
 * status code only, stays readable for the Web UI, while the body the subscriber answered (in the
 * encrypted attempt log) appears in neither.
 */
const SECRET = `subscription-secret-${randomBytes(8).toString('hex')}`;
const BODY_MARK = `body-marker-${randomBytes(8).toString('hex')}`;
const CONTROL = `control-marker-${randomBytes(8).toString('hex')}`;
/** In a follow-up URL's query: the follow-up's 404 failure message carries it. */
const QUERY_MARK = `query-marker-${randomBytes(8).toString('hex')}`;
/** The message of a subscriber's 503, kept by Temporal as the pending activity's last failure: readable. */
const BUSY_MESSAGE = 'Http503: receiver answered HTTP 503 Service Unavailable';
/** In the body of the subscriber's 503: kept by the attempt log, encrypted. */
const BUSY_BODY = `busy-body-marker-${randomBytes(8).toString('hex')}`;

let server: DevServer;
let dbDir: string;
let h: Harness;
let receiver: FakeHttpPeer;

beforeAll(async () => {
  dbDir = mkdtempSync(join(tmpdir(), 'hookflow-sqlite-'));
  server = await startDevServer({
    cli: process.env.TEMPORAL_CLI!,
    dbFile: join(dbDir, 'temporal.sqlite'),
    headless: true,
  });
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  const config = testConfig(`
sources:
  - id: erp
    kind: extend-commerce
    secret: extend-source-secret
    followUp:
      urls: { PurchasePartiallyDelivered: "${receiver.url}/purchases/{OrderNumber}?customer=${QUERY_MARK}" }
`);
  config.temporal.address = server.address;
  h = await startHarness(config);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await server?.stop();
});

/** `temporal workflow show -o json`, with every base64 payload field decoded so plain text would show. */
function show(workflowId: string): string {
  const output = execFileSync(
    process.env.TEMPORAL_CLI!,
    ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--output', 'json'],
    { encoding: 'utf8' },
  );
  const decoded: string[] = [output];
  JSON.parse(output, (key, value) => {
    if (typeof value === 'string' && (key === 'data' || key === 'encoding'))
      decoded.push(Buffer.from(value, 'base64').toString('latin1'));
    return value;
  });
  return decoded.join('\n');
}

test('no secret and no body text in `temporal workflow show` or in the SQLite files', async () => {
  const subscriptionId = await createSubscription(h, {
    url: `${receiver.url}/in`,
    secret: SECRET,
    triggers: ['extend-commerce.*'],
    auth: { type: 'x-auth-token', token: `${SECRET}-token` },
  });
  const text = JSON.stringify(
    extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'SAR-1', Comment: BODY_MARK } }]),
  );
  const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms('extend-source-secret', text) });
  const inboundId: string = res.json().events[0].workflowId;
  await h.client.workflow.getHandle(inboundId).result();
  const deliveryId = deliveryWorkflowId(inboundId.slice('inbound/'.length), subscriptionId);
  await h.client.workflow.getHandle(deliveryId).result();
  expect(receiver.requestsTo('/in')[0]?.body.toString()).toContain(BODY_MARK); // it did travel, to the subscriber only

  // A follow-up that fails with a 404: the failure message names the URL, query included.
  receiver.on('/purchases/SAR-2', () => ({ status: 404, body: { error: 'no such purchase' } }));
  const followUpText = JSON.stringify(
    extendBody([{ Action: 'PurchasePartiallyDelivered', Details: { OrderNumber: 'SAR-2' } }]),
  );
  const followUpRes = await post(h.app, '/webhooks/erp', followUpText, {
    'ms-signature': sign.ms('extend-source-secret', followUpText),
  });
  const followUpId: string = followUpRes.json().events[0].workflowId;
  const outcome = (await h.client.workflow.getHandle(followUpId).result()) as { status: string; reason?: string };
  expect(outcome).toMatchObject({
    status: 'follow-up-not-found',
    reason: expect.stringContaining(`?customer=${QUERY_MARK}`),
  }); // decrypted for the client
  expect(receiver.requestsTo('/purchases/SAR-2')).toHaveLength(1);

  // A subscriber answering 503: the delivery keeps retrying, Temporal keeps the attempt's failure.
  receiver.on('/busy', () => ({ status: 503, body: { error: BUSY_BODY } }));
  const busyId = await createSubscription(h, {
    url: `${receiver.url}/busy`,
    secret: `${SECRET}-busy`,
    triggers: ['extend-commerce.CustomerCreated'],
    // Retries soon: the first attempt is a local activity, the pending activity (read below) the second.
    retryPolicy: 'custom',
    retrySchedule: {
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maximumIntervalMs: 60_000,
      maximumDurationMs: 600_000,
    },
  });
  const busyText = JSON.stringify(extendBody([{ Action: 'CustomerCreated', Details: { CustomerNumber: 'SAR-3' } }]));
  const busyRes = await post(h.app, '/webhooks/erp', busyText, {
    'ms-signature': sign.ms('extend-source-secret', busyText),
  });
  const busyInboundId: string = busyRes.json().events[0].workflowId;
  await h.client.workflow.getHandle(busyInboundId).result();
  const busyDeliveryId = deliveryWorkflowId(busyInboundId.slice('inbound/'.length), busyId);
  // The API reads the pending attempt's failure raw from describe and shows it decrypted.
  const view = await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(busyDeliveryId)}`);
    const pendingFailure = (await h.client.workflow.getHandle(busyDeliveryId).describe()).raw.pendingActivities?.[0]
      ?.lastFailure;
    return res.statusCode === 200 && res.json().lastError !== null && pendingFailure && res.json();
  }, 'the busy delivery to record a failed attempt');
  expect(view).toMatchObject({ workflowStatus: 'RUNNING', lastError: BUSY_MESSAGE });
  // Describe's raw answer (what the Web UI and `temporal workflow describe` get): the message in words,
  // without a stack trace; the body only in the attempt log, decrypted for the operator by the API.
  const raw = (await h.client.workflow.getHandle(busyDeliveryId).describe()).raw.pendingActivities?.[0]?.lastFailure;
  expect(raw?.message).toBe(BUSY_MESSAGE);
  expect(raw?.stackTrace ?? '').toBe('');
  expect(raw?.encodedAttributes).toBeFalsy();
  const attempts = await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(busyDeliveryId)}/attempts`);
    const log = res.json() as { attempts: Array<Record<string, unknown>> };
    return res.statusCode === 200 && log.attempts.length > 0 ? log : undefined;
  }, 'the busy delivery to log an attempt');
  expect(attempts.attempts[0]).toMatchObject({
    httpStatus: 503,
    body: { content: expect.stringContaining(BUSY_BODY) },
  });

  // Other failures stay encrypted: the follow-up's 404 names its URL (in the marker of its local try).
  // The Web UI sends a failure's encodedAttributes to the codec endpoint like any payload: it decodes them.
  const followUpFailure = (await h.client.workflow.getHandle(followUpId).fetchHistory()).events?.find(
    (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  )?.markerRecordedEventAttributes?.failure;
  expect(followUpFailure?.message).toBe('Encoded failure');
  const attrs = followUpFailure!.encodedAttributes!;
  expect(Buffer.from(attrs.metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
  const b64 = (bytes?: Uint8Array | null) => Buffer.from(bytes ?? []).toString('base64');
  const payload = {
    metadata: Object.fromEntries(Object.entries(attrs.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(attrs.data),
  };
  const decoded = await h.app.inject({
    method: 'POST',
    url: '/codec/decode',
    remoteAddress: '127.0.0.1',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ payloads: [payload] }),
  });
  expect(decoded.statusCode).toBe(200);
  expect(JSON.parse(Buffer.from(decoded.json().payloads[0].data, 'base64').toString())).toMatchObject({
    message: expect.stringContaining(QUERY_MARK),
  });

  // Control: a payload written without the codec.
  const connection = await Connection.connect({ address: server.address });
  await new Client({ connection }).workflow.start('inboundWorkflow', {
    taskQueue: 'no-worker-here',
    workflowId: 'control',
    args: [{ note: CONTROL }],
  });
  await connection.close();

  for (const id of [inboundId, deliveryId, subscriptionWorkflowId(subscriptionId), followUpId, busyDeliveryId]) {
    const output = show(id);
    expect(output).toContain('binary/encrypted');
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(BODY_MARK);
    expect(output).not.toContain(QUERY_MARK);
    expect(output).not.toContain(BUSY_BODY);
  }
  expect(show(followUpId)).toContain('Encoded failure'); // the follow-up's failure is in the history, encrypted
  expect(show('control')).toContain(CONTROL);

  await h.stop();
  await server.stop(); // flush SQLite's WAL into the files we read
  const files = readdirSync(dbDir).map((name) => readFileSync(join(dbDir, name)).toString('latin1'));
  expect(files.length).toBeGreaterThan(0);
  expect(files.some((content) => content.includes(CONTROL))).toBe(true);
  for (const content of files) {
    expect(content).not.toContain(SECRET);
    expect(content).not.toContain(BODY_MARK);
    expect(content).not.toContain(QUERY_MARK);
    expect(content).not.toContain(BUSY_BODY);
  }
});
