import { buildApp } from '../../src/api/app';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi } from '../support/outbound';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';

/**
 * The console's server side through app.inject against a real dev server and worker: the session,
 * cookie flags and headers, write-only secrets, and the API's validation shown by the field. The
 * browser story is test/browser (npm run test:browser).
 */

let h: Harness;
let failing: FakeHttpPeer;
const jar = new Map<string, string>();
const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
const keep = (setCookie: string | string[] | undefined) => {
  for (const line of [setCookie ?? []].flat()) {
    const [pair] = line.split(';');
    const at = pair!.indexOf('=');
    jar.set(pair!.slice(0, at), pair!.slice(at + 1));
  }
};
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const get = async (url: string) => {
  const res = await h.app.inject({ url, headers: { cookie: cookie() } });
  keep(res.headers['set-cookie']);
  return res;
};
const post = async (url: string, fields: Record<string, string>) => {
  const page = await get('/console/subscriptions/new');
  const res = await h.app.inject({
    method: 'POST',
    url,
    headers: { ...FORM, cookie: cookie() },
    payload: new URLSearchParams({ ...fields, _csrf: csrfOf(page.body) }).toString(),
  });
  keep(res.headers['set-cookie']);
  return res;
};
const SECRET = 'integration-console-secret-77';
const fields = {
  id: 'console-int',
  name: 'Console integration',
  contactEmail: 'ops@example.com',
  url: 'http://127.0.0.1:9/hook',
  active: 'on',
  triggers: 'hookflow.*',
  retryPolicy: 'none',
  signature: 'ms-signature',
  'auth.type': 'none',
  connectionTimeout: 'PT5S',
  'tls.verify': 'on',
};

beforeAll(async () => {
  failing = await new FakeHttpPeer(() => ({ status: 503 })).start();
  h = await startHarness(testConfig('delivery: { oneDay: { initialInterval: PT10M } }'));
});
afterAll(async () => {
  await h?.stop();
  await failing?.stop();
});

test('signing in sets an HttpOnly, SameSite=Strict session cookie; pages carry a strict CSP', async () => {
  expect((await get('/console')).headers.location).toBe('/console/login');
  const login = await get('/console/login');
  expect(login.headers['content-security-policy']).toMatch(/default-src 'self'/);
  expect(login.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
  const res = await h.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { ...FORM, cookie: cookie() },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrfOf(login.body) }).toString(),
  });
  expect(res.statusCode).toBe(303);
  const session = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('hookflow_console='));
  expect(session).toMatch(/HttpOnly/);
  expect(session).toMatch(/SameSite=Strict/);
  expect(session).toMatch(/Path=\/console/);
  keep(res.headers['set-cookie']);
  expect((await get('/console')).statusCode).toBe(200);
});

test("the API's validation, shown under the field", async () => {
  const res = await post('/console/subscriptions', { ...fields, url: 'ftp://example.com/x', secret: SECRET });
  expect(res.statusCode).toBe(400);
  expect(res.body).toMatch(/<p class="error" id="url-error">must be an http\(s\) URL<\/p>/);
  expect(res.body).not.toContain(SECRET);
});

test('secrets are write-only: set through the form, never in a page, kept when left empty, removable', async () => {
  const created = await post('/console/subscriptions', { ...fields, secret: SECRET });
  expect(created.statusCode).toBe(303);
  expect((await adminApi(h, 'GET', '/api/subscriptions/console-int')).json()).toMatchObject({
    secret: '********',
    triggers: ['hookflow.*'],
    retryPolicy: 'none',
  });
  for (const page of [
    '/console',
    '/console/subscriptions/console-int',
    '/console/subscriptions/console-int/deliveries',
  ]) {
    const res = await get(page);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(SECRET);
  }
  expect((await post('/console/subscriptions/console-int', { ...fields, name: 'Renamed' })).statusCode).toBe(303);
  expect((await adminApi(h, 'GET', '/api/subscriptions/console-int')).json()).toMatchObject({
    name: 'Renamed',
    secret: '********',
  });
  expect((await post('/console/subscriptions/console-int', { ...fields, 'secret.remove': 'on' })).statusCode).toBe(303);
  expect((await adminApi(h, 'GET', '/api/subscriptions/console-int')).json()).toMatchObject({ secret: null });
});

test('a delivery waiting for its next attempt shows attempts, last HTTP status and when it tries again', async () => {
  expect(
    (
      await post('/console/subscriptions', {
        ...fields,
        id: 'console-retrying',
        url: `${failing.url}/hook`,
        retryPolicy: 'one-day',
      })
    ).statusCode,
  ).toBe(303);
  const tested = await post('/console/subscriptions/console-retrying/test', {});
  expect(tested.statusCode).toBe(303);
  expect(tested.headers.location).toMatch(/^\/console\/subscriptions\/console-retrying\/deliveries\?test=/);
  const row = await eventually(async () => {
    const page = await get('/console/subscriptions/console-retrying/deliveries');
    const tr = /<tr>[\s\S]*?hookflow\.test[\s\S]*?<\/tr>/.exec(page.body)?.[0];
    // The failed attempt's answer reaches the workflow by a signal, which can land just after the retry is scheduled.
    const cells = tr?.split('</td>') ?? [];
    return tr && /<time datetime="[^"]+">/.test(cells[5] ?? '') && /\d/.test(cells[4]?.replace(/<[^>]+>/g, '') ?? '')
      ? tr
      : undefined;
  }, 'the delivery row with a next attempt and the last HTTP status');
  const cells = row.split('</td>').map((c) => c.replace(/<[^>]+>/g, '').trim());
  expect(cells[3]).toBe('1'); // attempts
  expect(cells[4]).toBe('503'); // last HTTP status
  const next = Date.parse(/datetime="([^"]+)"/.exec(row.split('</td>')[5]!)![1]!);
  expect(next).toBeGreaterThan(Date.now() + 5 * 60_000); // the one-day policy's first interval: 10 min
  expect(failing.requests.length).toBe(1);
});

test('without admin.token the console is off', async () => {
  const app = await buildApp({ config: { ...h.config, admin: undefined }, client: h.client });
  expect((await app.inject('/console')).statusCode).toBe(404);
  expect((await app.inject('/console/login')).statusCode).toBe(404);
  await app.close();
});
