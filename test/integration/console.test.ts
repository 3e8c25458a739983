import { buildApp } from '../../src/api/app';
import { FakeHttpPeer } from '../support/fake-http';
import { adminApi } from '../support/outbound';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { consoleSession, csrfOf, FORM } from '../support/console-session';

/**
 * The console's server side through app.inject against a real dev server and worker: the session,
 * cookie flags and headers, write-only secrets, and the API's validation shown by the field. The
 * browser story is test/browser (npm run test:browser).
 */

let h: Harness;
let failing: FakeHttpPeer;
const { cookie, keep, get, post } = consoleSession(() => h.app);
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

test("a deleted subscription's deliveries are still shown, read-only, not a 404", async () => {
  expect(
    (await post('/console/subscriptions', { ...fields, id: 'console-deleted', url: `${failing.url}/gone` })).statusCode,
  ).toBe(303);
  expect((await post('/console/subscriptions/console-deleted/test', {})).statusCode).toBe(303);
  await eventually(async () => {
    const page = await get('/console/subscriptions/console-deleted/deliveries');
    return /hookflow\.test/.test(page.body);
  }, 'the test delivery listed');
  expect((await adminApi(h, 'DELETE', '/api/subscriptions/console-deleted')).statusCode).toBe(204);
  // The delete is an update of the subscription workflow, which then closes.
  const page = await eventually(async () => {
    const res = await get('/console/subscriptions/console-deleted/deliveries');
    return res.body.includes('id="deleted-notice"') ? res : undefined;
  }, 'the deleted notice');
  expect(page.statusCode).toBe(200);
  expect(page.body).toMatch(/hookflow\.test/);
  expect(page.body).not.toMatch(/action="\/console\/subscriptions\/console-deleted\/test"/);
  expect(page.body).not.toMatch(/aria-label="Retry /);
});

test('the layout links an SVG favicon, which is served', async () => {
  expect((await get('/console')).body).toContain('<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">');
  const icon = await get('/console/favicon.svg');
  expect(icon.statusCode).toBe(200);
  expect(icon.headers['content-type']).toBe('image/svg+xml');
  expect(icon.body).toMatch(/^<svg /);
});

test('an unknown console address, signed in or not, is an HTML page in the console layout', async () => {
  for (const [url, headers] of [
    ['/console/no-such-page', { cookie: cookie() }],
    ['/console/subscriptions/console-int/no-such-page', { cookie: cookie() }],
    ['/console/assets/no-such.css', { cookie: cookie() }],
    ['/console/no-such-page', {}],
  ] as const) {
    const res = await h.app.inject({ url, headers });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<a class="brand" href="/console">hookflow console</a>');
    expect(res.body).toContain('There is no console page at this address.');
    expect(res.body).toContain('<title>Page not found · hookflow console</title>');
  }
  // Outside /console the API's JSON answer is unchanged.
  expect((await h.app.inject('/no-such-page')).json()).toMatchObject({ error: 'not_found' });
});

test('an error thrown by a console page is an HTML page with its message', async () => {
  const res = await get('/console/subscriptions/no-such-subscription/deliveries');
  expect(res.statusCode).toBe(404);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.body).toMatch(/<p class="error" role="alert">[^<]*does not exist<\/p>/);
});

test('a form posted after the session ended asks to sign in, then returns to the page it came from', async () => {
  const page = await get('/console/subscriptions/console-int/deliveries');
  const expired = cookie().replace(/hookflow_console=[^;]+/, 'hookflow_console=ended');
  const from = 'http://localhost:80/console/subscriptions/console-int/deliveries';
  const res = await h.app.inject({
    method: 'POST',
    url: '/console/subscriptions/console-int/disable',
    headers: { ...FORM, cookie: expired, referer: from },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body) }).toString(),
  });
  expect(res.statusCode).toBe(401);
  expect(res.body).toContain('Your session ended');
  expect(res.body).toContain('<input type="hidden" name="next" value="/console/subscriptions/console-int/deliveries">');
  // Nothing was done without the session.
  expect((await adminApi(h, 'GET', '/api/subscriptions/console-int')).json()).toMatchObject({ active: true });
  const signIn = await h.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { ...FORM, cookie: expired },
    payload: new URLSearchParams({
      token: ADMIN_TOKEN,
      next: '/console/subscriptions/console-int/deliveries',
      _csrf: csrfOf(res.body),
    }).toString(),
  });
  expect(signIn.statusCode).toBe(303);
  expect(signIn.headers.location).toBe('/console/subscriptions/console-int/deliveries');
  // A Referer from another site is not a place to return to.
  const foreign = await h.app.inject({
    method: 'POST',
    url: '/console/subscriptions/console-int/disable',
    headers: { ...FORM, cookie: expired, referer: 'http://evil.example/console/subscriptions' },
    payload: new URLSearchParams({ _csrf: csrfOf(page.body) }).toString(),
  });
  expect(foreign.statusCode).toBe(401);
  expect(foreign.body).not.toContain('name="next"');
});

test('sign-in never sends the browser to another site', async () => {
  const login = await h.app.inject('/console/login');
  const jarOf = (res: typeof login) =>
    [res.headers['set-cookie'] ?? []]
      .flat()
      .map((c) => c.split(';')[0])
      .join('; ');
  for (const next of [
    '//evil.example/x',
    'https://evil.example/',
    '/\\evil.example',
    '/console/../evil',
    'javascript:alert(1)',
  ]) {
    const page = await h.app.inject({
      url: `/console/login?next=${encodeURIComponent(next)}`,
      headers: { cookie: jarOf(login) },
    });
    expect(page.body).not.toContain('name="next"');
    const res = await h.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { ...FORM, cookie: jarOf(login) },
      payload: new URLSearchParams({ token: ADMIN_TOKEN, next, _csrf: csrfOf(login.body) }).toString(),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console');
  }
  // Signed in already: the sign-in page forwards to a console path only.
  expect((await get('/console/login?next=%2F%2Fevil.example')).headers.location).toBe('/console');
  expect((await get('/console/login?next=%2Fconsole%2Fsubscriptions%2Fnew')).headers.location).toBe(
    '/console/subscriptions/new',
  );
});

test("zod's own messages are said in words under their field", async () => {
  const res = await post('/console/subscriptions', {
    ...fields,
    id: 'console-words',
    name: '',
    contactEmail: 'not-an-address',
    'filter.goodsOwners': '12, twelve',
  });
  expect(res.statusCode).toBe(400);
  expect(res.body).toContain('<p class="error" id="name-error">required</p>');
  expect(res.body).toContain(
    '<p class="error" id="contactEmail-error">must be an e-mail address, such as ops@example.com</p>',
  );
  expect(res.body).toContain(
    '<p class="error" id="filter-goodsOwners-error">must be numbers (ids), such as 12, 34</p>',
  );
  expect(res.body).not.toMatch(/Too small|Invalid input|expected number/);
});

test('without admin.token the console is off', async () => {
  const app = await buildApp({ config: { ...h.config, admin: undefined }, client: h.client });
  expect((await app.inject('/console')).statusCode).toBe(404);
  expect((await app.inject('/console/login')).statusCode).toBe(404);
  await app.close();
});
