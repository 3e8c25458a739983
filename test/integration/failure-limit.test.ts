import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { extendBody, sign } from '../support/webhooks';

/**
 * The per-address failure limit against a real socket on loopback: failed requests never lock out a
 * sender with valid credentials, and X-Forwarded-For counts only from a configured proxy.
 */
const SECRET = 'failure-limit-secret';
const yaml = (extra: string) => `
server:
  authFailureLimit: { max: 5, window: PT1M }
${extra}
sources:
  # Outside the filter: accepted events end at once (no worker runs here anyway).
  - { id: erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [NOWHERE] } }
`;

let h: Harness;
const apps: HookflowApp[] = [];

beforeAll(async () => {
  h = await startHarness(testConfig(yaml('')), { worker: false });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await h?.stop();
});

/** An app of `h` listening on 127.0.0.1 (the peer address of every request is then 127.0.0.1). */
async function listening(extra = '') {
  const app = extra ? await buildApp({ config: testConfig(yaml(extra)), client: h.client }) : h.app;
  if (extra) apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

const body = () =>
  JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: randomUUID(), Warehouse: 'W1' } }]));

async function send(base: string, headers: Record<string, string> = {}, valid = false) {
  const text = body();
  const res = await fetch(`${base}/webhooks/erp`, {
    method: 'POST',
    body: text,
    headers: {
      'content-type': 'application/json',
      'ms-signature': valid ? sign.ms(SECRET, text) : 'sha256=00',
      ...headers,
    },
  });
  await res.arrayBuffer();
  return res;
}

test('an address over its failure limit: failing requests get 429, a validly signed one is served', async () => {
  const base = await listening();
  for (let i = 0; i < 5; i++) expect((await send(base)).status).toBe(401);
  const refused = await send(base);
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  for (let i = 0; i < 3; i++) expect((await send(base, {}, true)).status).toBe(202);
  // ...and the unauthenticated ones stay refused.
  expect((await send(base)).status).toBe(429);
});

test('X-Forwarded-For names the client only when the peer is a trusted proxy', async () => {
  // Not trusted: the header is ignored, every failure counts against the peer (127.0.0.1), whatever it claims.
  const direct = await listening('  rateLimit: { max: 100000, window: PT1M }');
  for (let i = 0; i < 5; i++) expect((await send(direct, { 'x-forwarded-for': `10.9.0.${i}` })).status).toBe(401);
  expect((await send(direct, { 'x-forwarded-for': '10.9.0.99' })).status).toBe(429);

  // Behind a trusted proxy (the loopback peer): each client address has its own count.
  const proxied = await listening('  trustedProxies: ["127.0.0.1"]');
  for (let i = 0; i < 5; i++) expect((await send(proxied, { 'x-forwarded-for': '10.8.0.1' })).status).toBe(401);
  expect((await send(proxied, { 'x-forwarded-for': '10.8.0.1' })).status).toBe(429);
  expect((await send(proxied, { 'x-forwarded-for': '10.8.0.2' })).status).toBe(401);
});
