import { randomUUID } from 'node:crypto';
import { REJECTIONS_KEPT } from '../../src/observability/rejections';
import { ADMIN_TOKEN, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi } from '../support/outbound';
import { erpSourceYaml, extendBody, post, sign } from '../support/webhooks';
import { consoleSession } from '../support/console-session';

/**
 * Refused webhooks are counted by source and reason and listed (API and console) with time, source,
 * reason, status and client address, never their body or credentials. No worker: a 202 needs only
 * Temporal to accept the start.
 */

const SECRET = 'extend-secret-rejections-4711';
const BODY_MARKER = 'confidential-body-text-9f1c';
let h: Harness;

beforeAll(async () => {
  // A failure limit above what the ring test sends, so that every one of them is a 401.
  const yaml = `server: { authFailureLimit: { max: 1000 } }\nsources:\n${erpSourceYaml(SECRET, 'http://127.0.0.1:9')}`;
  h = await startHarness(testConfig(yaml), { worker: false });
});
afterAll(async () => {
  await h?.stop();
});

function postExtend(source: string, text: string, secret = SECRET) {
  return post(h.app, `/webhooks/${source}`, text, { 'ms-signature': sign.ms(secret, text) });
}
const validBody = () =>
  JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: `RJ-${randomUUID()}` } }]));

async function rejectedMetric(labels: { source: string; reason: string }): Promise<number> {
  const text = (await h.app.inject('/metrics')).body;
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('hookflow_webhooks_rejected_total{') &&
        l.includes(`source="${labels.source}"`) &&
        l.includes(`reason="${labels.reason}"`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

interface Listed {
  since: string;
  kept: number;
  rejections: Array<{
    at: string;
    source: string;
    reason: string;
    status: number;
    clientAddress: string;
    requestId: string;
    message: string;
  }>;
}
async function listed(): Promise<Listed> {
  const res = await adminApi(h, 'GET', '/api/rejections');
  expect(res.statusCode).toBe(200);
  return res.json();
}

test('the admin token is needed to read them', async () => {
  expect((await h.app.inject('/api/rejections')).statusCode).toBe(401);
});

test('a bad signature, bad JSON and an unknown source are listed newest first and counted; an accepted one is not', async () => {
  const labels = [
    { source: 'erp', reason: 'unauthorized' },
    { source: 'erp', reason: 'invalid_payload' },
    { source: '(unknown)', reason: 'not_found' },
  ];
  const before = await Promise.all(labels.map(rejectedMetric));
  const startedAt = new Date().toISOString();

  const forged = JSON.stringify({ ...JSON.parse(validBody()), note: BODY_MARKER });
  const badSignature = await postExtend('erp', forged, 'rotated-away-secret');
  expect(badSignature.statusCode).toBe(401);
  const badJson = await postExtend('erp', `{"Id": "${BODY_MARKER}", oops`);
  expect(badJson.statusCode).toBe(400);
  const unknown = await postExtend('no-such-source', validBody());
  expect(unknown.statusCode).toBe(404);
  const accepted = await postExtend('erp', validBody());
  expect(accepted.statusCode).toBe(202);

  const res = await adminApi(h, 'GET', '/api/rejections');
  const { rejections, kept, since } = res.json() as Listed;
  expect(kept).toBe(REJECTIONS_KEPT);
  expect(Date.parse(since)).toBeLessThanOrEqual(Date.parse(startedAt));
  expect(rejections).toHaveLength(3);
  expect(rejections.map((r) => [r.source, r.reason, r.status])).toEqual([
    ['(unknown)', 'not_found', 404],
    ['erp', 'invalid_payload', 400],
    ['erp', 'unauthorized', 401],
  ]);
  expect(rejections.map((r) => r.requestId)).toEqual(
    [unknown, badJson, badSignature].map((r) => r.headers['x-request-id']),
  );
  for (const r of rejections) {
    expect(r.clientAddress).toBe('127.0.0.1'); // app.inject's peer
    expect(Date.parse(r.at)).toBeGreaterThanOrEqual(Date.parse(startedAt));
    expect(r.message).not.toMatch(/\n/);
  }
  expect(rejections[0]!.message).toMatch(/unknown source "no-such-source"/);
  expect(rejections[1]!.message).toMatch(/^body is not valid JSON/);
  expect(rejections[2]!.message).toMatch(/ms-signature does not match/);
  // Nothing of the bodies, the signatures or the secret.
  expect(res.body).not.toContain(BODY_MARKER);
  expect(res.body).not.toContain(SECRET);
  expect(res.body).not.toContain('rotated-away-secret');
  expect(res.body).not.toMatch(/sha256=/i);

  const after = await Promise.all(labels.map(rejectedMetric));
  expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1, 1]);
});

test('a body that is not JSON or too large is listed with its reason, without the body', async () => {
  const notJson = await post(h.app, '/webhooks/erp', BODY_MARKER, { 'content-type': 'text/plain' });
  expect(notJson.statusCode).toBe(415);
  const large = await postExtend('erp', JSON.stringify({ pad: BODY_MARKER.repeat(80_000) }));
  expect(large.statusCode).toBe(413);
  const res = await adminApi(h, 'GET', '/api/rejections');
  const [first, second] = (res.json() as Listed).rejections;
  expect([first?.reason, first?.status, first?.requestId]).toEqual([
    'payload_too_large',
    413,
    large.headers['x-request-id'],
  ]);
  expect([second?.reason, second?.status, second?.requestId]).toEqual([
    'unsupported_media_type',
    415,
    notJson.headers['x-request-id'],
  ]);
  expect(first?.message).toMatch(/too large/);
  expect(second?.message).toMatch(/Unsupported Media Type/);
  expect(res.body).not.toContain(BODY_MARKER);
});

test(`only the last ${REJECTIONS_KEPT} are kept`, async () => {
  let last = '';
  for (let i = 0; i < REJECTIONS_KEPT + 5; i++) {
    const res = await postExtend('erp', validBody(), `wrong-${i}`);
    expect(res.statusCode).toBe(401);
    last = String(res.headers['x-request-id']);
  }
  const { rejections } = await listed();
  expect(rejections).toHaveLength(REJECTIONS_KEPT);
  expect(rejections[0]!.requestId).toBe(last);
  expect(rejections.every((r) => r.reason === 'unauthorized')).toBe(true);
});

test('the console lists them with the time the process started keeping them', async () => {
  const { cookie, keep } = consoleSession(() => h.app);
  const login = await h.app.inject('/console/login');
  keep(login.headers['set-cookie']);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const signIn = await h.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrf }).toString(),
  });
  keep(signIn.headers['set-cookie']);

  const page = await h.app.inject({ url: '/console/rejections', headers: { cookie: cookie() } });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  const { since, rejections } = await listed();
  expect(page.body).toContain(`last ${REJECTIONS_KEPT} webhooks`);
  expect(page.body).toContain(`<time datetime="${since}">`);
  expect(page.body).toContain('<table class="cards">');
  expect(page.body).toContain(rejections[0]!.requestId);
  expect(page.body).toContain('href="/console/rejections"'); // the navigation
  expect(page.body).not.toContain(SECRET);

  // Signed out: to the sign-in page, not the list.
  expect((await h.app.inject('/console/rejections')).statusCode).toBe(303);
});
