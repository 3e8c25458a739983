import { buildApp } from '../../src/api/app';
import { FORM, csrfOf } from '../support/console-session';
import { ADMIN_TOKEN, startHarness, testConfig, type Harness } from '../support/harness';

/**
 * Behind a TLS-terminating reverse proxy the console's cookies must be `Secure`: the proxy says so with
 * `X-Forwarded-Proto: https`, which counts only when the peer is in `server.trustedProxies`. app.inject
 * connects from 127.0.0.1, the proxy's address here.
 */

const pairs = (setCookie: string | string[] | undefined) =>
  [setCookie ?? []]
    .flat()
    .map((line) => line.split(';')[0])
    .join('; ');

let h: Harness;
let untrusted: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  h = await startHarness(testConfig('server: { trustedProxies: ["127.0.0.1"] }'), { worker: false });
  untrusted = await buildApp({ config: testConfig(''), client: h.client });
});
afterAll(async () => {
  await untrusted?.close();
  await h?.stop();
});

async function signIn(app: typeof untrusted, forwarded: Record<string, string>) {
  const login = await app.inject({ url: '/console/login', headers: forwarded });
  const res = await app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { ...FORM, ...forwarded, cookie: pairs(login.headers['set-cookie']) },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrfOf(login.body) }).toString(),
  });
  expect(res.statusCode).toBe(303);
  const cookies = [login.headers['set-cookie'] ?? [], res.headers['set-cookie'] ?? []].flat();
  return {
    session: cookies.find((c) => c.startsWith('hookflow_console=')),
    csrf: cookies.find((c) => c.startsWith('hookflow_console_csrf=')),
  };
}

test('a trusted proxy forwarding https: the session and CSRF cookies are Secure', async () => {
  const { session, csrf } = await signIn(h.app, { 'x-forwarded-proto': 'https' });
  expect(session).toMatch(/;\s*Secure/i);
  expect(csrf).toMatch(/;\s*Secure/i);
});

test('plain http through the trusted proxy: not Secure (the browser would drop them)', async () => {
  const { session } = await signIn(h.app, { 'x-forwarded-proto': 'http' });
  expect(session).toBeDefined();
  expect(session).not.toMatch(/Secure/i);
});

test('X-Forwarded-Proto from a peer that is not a trusted proxy is ignored', async () => {
  const { session } = await signIn(untrusted, { 'x-forwarded-proto': 'https' });
  expect(session).toBeDefined();
  expect(session).not.toMatch(/Secure/i);
});
