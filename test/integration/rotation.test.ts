import { Webhook } from 'standardwebhooks';
import { randomBytes, randomUUID } from 'node:crypto';
import { verifyMsSignature } from '../../src/signing/ms-signature';
import { FakeHttpPeer, type RecordedRequest } from '../support/fake-http';
import { consoleSession, csrfOf, FORM } from '../support/console-session';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription, subscribe } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * Secret rotation without a refused or unverifiable webhook (docs/security.md "Rotating secrets"):
 * inbound, the sender switches from the previous to the current secret in the middle of a stream while
 * the config holds both; outbound, a Standard Webhooks subscription gets a next secret, signs with both
 * during the overlap while its receiver moves from the old secret to the new one, and with the new one
 * alone once the overlap ends; an ms-signature subscription switches at `rotateAt`.
 */
const SENDER_OLD = `sender-old-${randomBytes(6).toString('hex')}`;
const SENDER_NEW = `sender-new-${randomBytes(6).toString('hex')}`;
const OUT_OLD = `whsec_${randomBytes(24).toString('base64')}`;
const OUT_NEW = `whsec_${randomBytes(24).toString('base64')}`;
const MS_OLD = `ms-old-${randomBytes(6).toString('hex')}`;
const MS_NEW = `ms-new-${randomBytes(6).toString('hex')}`;
const EXPIRED = '2020-01-01T00:00:00Z';

/** The receiver verifies with the Standard Webhooks library, independent of hookflow's own signing code. */
function verifyStandard(secret: string, request: RecordedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer().start();
  h = await startHarness(
    testConfig(`
sources:
  - id: erp
    kind: extend-commerce
    secret: [${SENDER_NEW}, ${SENDER_OLD}]
  - id: legacy
    kind: extend-commerce
    secret: [{ value: ${SENDER_NEW}, name: current }, { value: ${SENDER_OLD}, name: previous, notAfter: "${EXPIRED}" }]
    filter: { warehouses: [NOWHERE] }
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

const patch = async (id: string, body: Record<string, unknown>) => {
  const res = await adminApi(h, 'PATCH', `/api/subscriptions/${id}`, body);
  expect(res.statusCode).toBe(200);
  return res;
};

test('a rotation in the middle of a stream: 0 refused, 0 unverifiable, then the old secrets stop', async () => {
  // The receivers: each verifies with what it knows now; a request no secret verifies is answered 401.
  let standardKnows = [OUT_OLD];
  const unverifiable: RecordedRequest[] = [];
  const standard = await subscribe(
    h,
    receiver,
    (request) => {
      if (standardKnows.some((secret) => verifyStandard(secret, request))) return { status: 204 };
      unverifiable.push(request);
      return { status: 401 };
    },
    { signature: 'standard-webhooks', secret: OUT_OLD, triggers: ['extend-commerce.OrderCreated'] },
  );
  // A single-signature receiver accepts both secrets while its sender rotates (it cannot tell which comes).
  const ms = await subscribe(
    h,
    receiver,
    (request) => {
      const header = String(request.headers['ms-signature'] ?? '');
      if ([MS_OLD, MS_NEW].some((secret) => verifyMsSignature(secret, request.body, header))) return { status: 204 };
      unverifiable.push(request);
      return { status: 401 };
    },
    { signature: 'ms-signature', secret: MS_OLD, triggers: ['extend-commerce.OrderCreated'] },
  );

  let sent = 0;
  const refused: number[] = [];
  /** One webhook from the sender, signed with `senderSecret`; resolves when both receivers have it. */
  const webhook = async (senderSecret: string) => {
    const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: `R-${sent}` } }]));
    const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms(senderSecret, body) });
    if (res.statusCode !== 202) refused.push(res.statusCode);
    sent += 1;
    await eventually(
      async () => standard.requests().length >= sent && ms.requests().length >= sent,
      `delivery ${sent} to both receivers`,
    );
    return { standard: standard.requests()[sent - 1]!, ms: ms.requests()[sent - 1]! };
  };

  // Before the rotation: one signature each, the old secrets.
  for (let i = 0; i < 2; i++) {
    const got = await webhook(SENDER_OLD);
    expect(String(got.standard.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyMsSignature(MS_OLD, got.ms.body, String(got.ms.headers['ms-signature']))).toBe(true);
  }

  // The operator sets the next secrets: the answer never shows them.
  const far = new Date(Date.now() + 3_600_000).toISOString();
  const started = await patch(standard.id, { nextSecret: OUT_NEW, overlapUntil: far });
  expect(started.body).not.toContain(OUT_NEW);
  expect(started.json()).toMatchObject({ nextSecret: '********', overlapUntil: far, switchAt: far });
  expect((await patch(ms.id, { nextSecret: MS_NEW, rotateAt: far })).body).not.toContain(MS_NEW);

  // The sender switches to its new secret mid-stream; the overlap carries both outbound signatures.
  for (let i = 0; i < 2; i++) {
    const got = await webhook(SENDER_NEW);
    expect(String(got.standard.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyStandard(OUT_OLD, got.standard) && verifyStandard(OUT_NEW, got.standard)).toBe(true);
    expect(verifyMsSignature(MS_OLD, got.ms.body, String(got.ms.headers['ms-signature']))).toBe(true);
  }
  // The receiver moves to the new secret during the overlap.
  standardKnows = [OUT_NEW];
  await webhook(SENDER_NEW);

  // The overlap ends (the operator brings it forward to now): the subscription workflow promotes the next secret.
  const now = new Date().toISOString();
  await patch(standard.id, { overlapUntil: now });
  await patch(ms.id, { rotateAt: now });
  for (const id of [standard.id, ms.id]) {
    await eventually(async () => {
      const view = (await adminApi(h, 'GET', `/api/subscriptions/${id}`)).json();
      return view.nextSecret === null && view.switchAt === null && view.secret === '********';
    }, `the next secret of ${id} to become its secret`);
  }
  for (let i = 0; i < 2; i++) {
    const got = await webhook(SENDER_NEW);
    expect(String(got.standard.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyStandard(OUT_OLD, got.standard)).toBe(false);
    expect(verifyStandard(OUT_NEW, got.standard)).toBe(true);
    expect(verifyMsSignature(MS_NEW, got.ms.body, String(got.ms.headers['ms-signature']))).toBe(true);
  }

  expect(refused).toEqual([]);
  expect(unverifiable).toHaveLength(0);
  expect(standard.requests()).toHaveLength(sent);
  expect(ms.requests()).toHaveLength(sent);

  // Which inbound secret matched is a metric label, never the secret.
  const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toMatch(/hookflow_webhooks_verified_total\{source="erp",secret="previous"\} 2\b/);
  expect(metrics).toMatch(/hookflow_webhooks_verified_total\{source="erp",secret="current"\} 5\b/);
  expect(metrics).not.toContain(SENDER_NEW);

  // No secret in plain text in the subscription workflow's history.
  const history = JSON.stringify(await h.client.workflow.getHandle(`subscription/${standard.id}`).fetchHistory());
  for (const secret of [OUT_OLD, OUT_NEW]) expect(history).not.toContain(secret);
});

test('an expired previous secret is refused with 401; the current one is accepted', async () => {
  const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: randomUUID() } }]));
  const old = await post(h.app, '/webhooks/legacy', body, { 'ms-signature': sign.ms(SENDER_OLD, body) });
  expect(old.statusCode).toBe(401);
  expect(old.body).not.toContain(SENDER_OLD);
  const current = await post(h.app, '/webhooks/legacy', body, { 'ms-signature': sign.ms(SENDER_NEW, body) });
  expect(current.statusCode).toBe(202);
});

test('the console sets a next secret and shows the overlap and its end, never the secret', async () => {
  const { get, post, keep } = consoleSession(() => h.app);
  const login = await get('/console/login');
  keep(
    (
      await h.app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { ...FORM, cookie: login.headers['set-cookie'] as string },
        payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrfOf(login.body) }).toString(),
      })
    ).headers['set-cookie'],
  );
  const url = `${receiver.url}/console-rotation`;
  const id = await createSubscription(h, {
    url,
    signature: 'standard-webhooks',
    secret: OUT_OLD,
    triggers: ['shop.*'],
  });
  const until = '2030-01-01T00:00:00.000Z';
  const form = {
    name: `Test ${id}`,
    contactEmail: 'tech@example.com',
    url,
    active: 'on',
    triggers: 'shop.*',
    retryPolicy: 'one-day',
    connectionTimeout: 'PT30S',
    signature: 'standard-webhooks',
    'auth.type': 'none',
    'tls.verify': 'on',
  };
  const saved = await post(`/console/subscriptions/${id}`, { ...form, nextSecret: OUT_NEW, overlapUntil: until });
  expect(saved.statusCode).toBe(303);
  const page = await get(`/console/subscriptions/${id}`);
  expect(page.body).toContain('id="rotation-state"');
  expect(page.body).toContain(`<time datetime="${until}">`);
  for (const secret of [OUT_OLD, OUT_NEW]) expect(page.body).not.toContain(secret);
  expect((await adminApi(h, 'GET', `/api/subscriptions/${id}`)).json()).toMatchObject({
    nextSecret: '********',
    overlapUntil: until,
  });
  // Cancelling the rotation keeps the current secret.
  const cancelled = await post(`/console/subscriptions/${id}`, {
    ...form,
    overlapUntil: until,
    'nextSecret.remove': 'on',
  });
  expect(cancelled.statusCode).toBe(303);
  expect((await adminApi(h, 'GET', `/api/subscriptions/${id}`)).json()).toMatchObject({
    secret: '********',
    nextSecret: null,
    overlapUntil: null,
    switchAt: null,
  });
});
