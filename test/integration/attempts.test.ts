import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { DeliveryAttempts } from '../../src/temporal/attempts';
import { FakeHttpPeer, type Responder } from '../support/fake-http';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, deliverPublished, subscribe } from '../support/outbound';
import { consoleSession, csrfOf, FORM } from '../support/console-session';

/**
 * The attempt log through the API and the console against a real dev server and worker: what each
 * receiver answered (status, headers, first 4 KiB of the body) or why there was no answer; the body
 * encrypted in Temporal while the attempt's failure message stays readable and without stack trace.
 */

let h: Harness;
let receiver: FakeHttpPeer;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(
      'delivery: { oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT2S, window: PT30S } }',
    ),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

const attemptsOf = async (workflowId: string): Promise<DeliveryAttempts> => {
  const res = await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent(workflowId)}/attempts`);
  expect(res.statusCode).toBe(200);
  return res.json();
};

/** `temporal workflow show -o json` of a workflow, with every base64 payload field decoded so plain text would show. */
function show(workflowId: string): string {
  const output = execFileSync(
    process.env.TEMPORAL_CLI!,
    ['workflow', 'show', '--address', h.config.temporal.address, '--workflow-id', workflowId, '--output', 'json'],
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

/** The history as stored, read by a client without the codec: every payload's bytes as latin1 text. */
async function rawHistory(workflowId: string, runId?: string) {
  const connection = await Connection.connect({ address: h.config.temporal.address });
  try {
    const history = await new Client({ connection, namespace: h.config.temporal.namespace }).workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    // Payload bytes come as base64 (or bytes): decode every `data` and `encoding` so plain text would show.
    const parts: string[] = [];
    const json = JSON.stringify(history.events, (_key, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
    );
    JSON.parse(json, (key, value: unknown) => {
      if (typeof value === 'string' && (key === 'data' || key === 'encoding'))
        parts.push(Buffer.from(value, 'base64').toString('latin1'));
      return value;
    });
    const text = [json, ...parts].join('\n');
    return { history, text };
  } finally {
    await connection.close();
  }
}

test('a 422 with a JSON body, then (retried) a 200: both attempts with status, headers and body', async () => {
  const marker = `unknown SKU ${randomBytes(6).toString('hex')}`;
  let fixed = false;
  const erp: Responder = () =>
    fixed
      ? {
          status: 200,
          body: 'thanks',
          headers: { 'content-type': 'text/plain', 'set-cookie': 'session=s3cret' } as Record<string, string>,
        }
      : { status: 422, body: { error: marker }, headers: { 'x-request-id': 'erp-req-1', 'set-cookie': 'a=b' } };
  const sub = await subscribe(h, receiver, erp);
  const handle = await deliverPublished(h, sub.id);
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError); // 422 is permanent

  const failed = await attemptsOf(handle.workflowId);
  expect(failed).toMatchObject({ workflowStatus: 'FAILED', subscriptionId: sub.id, eventType: 'shop.OrderPaid' });
  expect(failed.attempts).toHaveLength(1);
  expect(failed.attempts[0]).toMatchObject({
    attempt: 1,
    httpStatus: 422,
    statusText: 'Unprocessable Entity',
    outcome: 'stop',
    failureType: 'Http422',
    headers: { 'content-type': 'application/json', 'x-request-id': 'erp-req-1' },
    body: { encoding: 'text', content: JSON.stringify({ error: marker }), truncated: false },
  });
  expect(failed.attempts[0]!.headers).not.toHaveProperty('set-cookie');
  expect(failed.attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
  expect(failed.failure).toMatch(/Http422: receiver answered HTTP 422 Unprocessable Entity/);
  expect(failed.failure).not.toContain(marker);

  fixed = true;
  const retry = await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(handle.workflowId)}/retry`);
  expect(retry.statusCode).toBe(202);
  await h.client.workflow.getHandle(handle.workflowId, retry.json().runId).result();
  const log = await attemptsOf(handle.workflowId);
  expect(log.workflowStatus).toBe('COMPLETED');
  expect(log.attempts.map((a) => a.httpStatus)).toEqual([422, 200]);
  expect(log.attempts[0]!.body?.content).toContain(marker);
  expect(log.attempts[1]).toMatchObject({
    outcome: 'delivered',
    statusText: 'OK',
    headers: { 'content-type': 'text/plain' },
    body: { content: 'thanks' },
  });
  expect(log.attempts[1]!.headers).not.toHaveProperty('set-cookie');

  // At rest: the body is in no stored payload, not in `temporal workflow show`; the failure reads in words.
  const shown = show(handle.workflowId);
  expect(shown).toContain('binary/encrypted');
  expect(shown).not.toContain(marker);
  expect(shown).not.toContain('thanks');
  for (const runId of [failed.runId, log.runId]) {
    const { history, text } = await rawHistory(handle.workflowId, runId);
    expect(text).toContain('binary/encrypted');
    expect(text).toContain('"shop.OrderPaid"'); // control: plain values (a search attribute) do show
    expect(text).not.toContain(marker);
    expect(text).not.toContain('erp-req-1');
    expect(text).not.toContain('thanks');
    // The failed attempt's failure as the Web UI shows it: one line with its type, no stack, not encoded.
    // (The first attempt is a local activity: its failure is in its marker.)
    const failure = history.events
      ?.map(
        (e) =>
          e.activityTaskFailedEventAttributes?.failure ??
          (e.markerRecordedEventAttributes?.markerName === 'core_local_activity'
            ? e.markerRecordedEventAttributes.failure
            : undefined),
      )
      .find((f) => f);
    if (runId === failed.runId) {
      expect(failure?.message).toBe('Http422: receiver answered HTTP 422 Unprocessable Entity');
      expect(failure?.stackTrace ?? '').toBe('');
      expect(failure?.encodedAttributes).toBeFalsy();
    }
  }
});

test('no answer: the error in words, readable in the Web UI without a stack trace', async () => {
  // A port that was just free: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as AddressInfo;
      server.close(() => resolve(free));
    });
  });
  const sub = await subscribe(
    h,
    receiver,
    () => ({ status: 200 }),
    { retryPolicy: 'none' },
    `http://127.0.0.1:${port}`,
  );
  const handle = await deliverPublished(h, sub.id);
  const err = await handle.result().catch((e: WorkflowFailedError) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const log = await attemptsOf(handle.workflowId);
  expect(log.attempts).toHaveLength(1);
  expect(log.attempts[0]).toMatchObject({
    attempt: 1,
    outcome: 'stop', // retry policy none
    failureType: 'ConnectionError',
    error: 'connection failed (connection refused)',
  });
  expect(log.attempts[0]).not.toHaveProperty('httpStatus');
  const { history } = await rawHistory(handle.workflowId);
  const closed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)
    ?.workflowExecutionFailedEventAttributes?.failure;
  expect(closed?.message).toMatch(
    /^delivery to subscription .* failed after 1 attempt\(s\): ConnectionError: connection failed \(connection refused\)$/,
  );
  expect(closed?.stackTrace ?? '').toBe('');
  expect(closed?.cause?.message).toBe('ConnectionError: connection failed (connection refused)');
  expect(closed?.cause?.stackTrace ?? '').toBe('');
});

test('a body over 4 KiB is cut at 4 KiB; a binary one is kept as base64', async () => {
  const long = 'x'.repeat(10_000);
  const text = await subscribe(h, receiver, () => ({
    status: 200,
    body: long,
    headers: { 'content-type': 'text/plain' },
  }));
  const binary = await subscribe(h, receiver, () => ({
    status: 200,
    body: Buffer.from([0, 1, 2, 255, 254]).toString('latin1'),
    headers: { 'content-type': 'application/octet-stream' },
  }));
  const [t, b] = await Promise.all([deliverPublished(h, text.id), deliverPublished(h, binary.id)]);
  await Promise.all([t.result(), b.result()]);
  const [cut] = (await attemptsOf(t.workflowId)).attempts;
  expect(cut?.body).toMatchObject({ bytes: 10_000, encoding: 'text', truncated: true });
  expect(cut?.body?.content).toBe('x'.repeat(4096));
  const [bin] = (await attemptsOf(b.workflowId)).attempts;
  expect(bin?.body?.encoding).toBe('base64');
  expect(bin?.body?.bytes).toBeGreaterThan(0);
});

test('an unknown delivery is a 404; an id that cannot be a delivery is a 400', async () => {
  expect(
    (await adminApi(h, 'GET', `/api/deliveries/${encodeURIComponent('delivery/nope/nope')}/attempts`)).statusCode,
  ).toBe(404);
  expect((await adminApi(h, 'GET', '/api/deliveries/inbound%2Fx/attempts')).statusCode).toBe(400);
});

test('the OpenAPI document describes the attempts route and its record', async () => {
  const doc = (await h.app.inject('/docs/json')).json();
  const route = doc.paths['/api/deliveries/{id}/attempts']?.get;
  expect(route).toBeDefined();
  const schema = JSON.stringify(route.responses['200']);
  for (const field of ['durationMs', 'httpStatus', 'headers', 'truncated', 'nextAttemptAt'])
    expect(schema).toContain(field);
});

describe('console', () => {
  const { cookie, keep, get } = consoleSession(() => h.app);

  beforeAll(async () => {
    const login = await get('/console/login');
    const res = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { ...FORM, cookie: cookie() },
      payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrfOf(login.body) }).toString(),
    });
    keep(res.headers['set-cookie']);
    expect(res.statusCode).toBe(303);
  });

  test("the attempt page shows the receiver's body as text, escaped", async () => {
    const sub = await subscribe(h, receiver, () => ({
      status: 400,
      body: '<script>alert("owned")</script> bad order',
      headers: { 'content-type': 'text/html' },
    }));
    const handle = await deliverPublished(h, sub.id);
    await handle.result().catch(() => undefined);
    const list = await get(`/console/subscriptions/${sub.id}/deliveries`);
    const link = `/console/deliveries/${encodeURIComponent(handle.workflowId)}`;
    expect(list.body).toContain(`href="${link}"`);
    const page = await get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; bad order');
    expect(page.body).not.toContain('<script>alert');
    expect(page.body).toMatch(/class="badge bad http-status">HTTP 400 Bad Request/);
    expect(page.body).toContain('text/html');
    expect((await get('/console/deliveries/not-a-delivery')).statusCode).toBe(404);
  });

  test('after Test, the console links to the test delivery’s attempt page', async () => {
    const sub = await subscribe(h, receiver, () => ({ status: 202, body: { accepted: 'test-ok' } }), {
      triggers: ['hookflow.*'],
    });
    const form = await get(`/console/subscriptions/${sub.id}/deliveries`);
    const tested = await h.app.inject({
      method: 'POST',
      url: `/console/subscriptions/${sub.id}/test`,
      headers: { ...FORM, cookie: cookie() },
      payload: new URLSearchParams({ _csrf: csrfOf(form.body) }).toString(),
    });
    expect(tested.statusCode).toBe(303);
    const href = await eventually(async () => {
      const page = await get(tested.headers.location as string);
      return /<a href="([^"]+)" id="test-attempts">/.exec(page.body)?.[1];
    }, 'the test delivery to be answered');
    const page = await eventually(async () => {
      const res = await get(href);
      return res.body.includes('HTTP 202') && res;
    }, 'the attempt page to show the answer');
    expect(page.body).toContain('test-ok');
    expect(page.body).toContain('hookflow.test');
  });
});
