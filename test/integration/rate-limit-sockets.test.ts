import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { extendBody, sign } from '../support/webhooks';

// The per-address failure limit (server.authFailureLimit) through real TCP connections: the API listens
// on 127.0.0.1 and each client binds its own loopback address (127.0.0.x, all local on Linux), so the
// address the limit counts is the socket's peer address, not one set by the test (app.inject).
const SECRET = 'sockets-extend-secret';
let h: Harness;
let url: string;
const agents: Agent[] = [];

beforeAll(async () => {
  h = await startHarness(
    testConfig(`
server: { authFailureLimit: { max: 5, window: PT1M } }
sources:
  - { id: erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [NOWHERE] } }
`),
    { worker: false }, // a 202 is the durable start; nothing needs to run
  );
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  for (const agent of agents) await agent.close();
  await h?.stop();
});

/** A client whose connections come from `localAddress`. */
function from(localAddress: string) {
  const agent = new Agent({ localAddress });
  agents.push(agent);
  return async (signature: string) => {
    const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'S-1' } }]));
    const res = await request(`${url}/webhooks/erp`, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'content-type': 'application/json',
        'ms-signature': signature === 'good' ? sign.ms(SECRET, body) : signature,
      },
      body,
    });
    await res.body.dump();
    return { status: res.statusCode, retryAfter: res.headers['retry-after'] };
  };
}

test('5 failed requests from 127.0.0.2: its next failures get 429, its signed requests are still served; 127.0.0.3 is not limited', async () => {
  const attacker = from('127.0.0.2');
  const neighbour = from('127.0.0.3');
  for (let i = 0; i < 5; i++) expect((await attacker(`sha256=${'0'.repeat(64)}`)).status).toBe(401);
  expect(await attacker(`sha256=${'0'.repeat(64)}`)).toEqual({
    status: 429,
    retryAfter: expect.stringMatching(/^\d+$/),
  });
  // Behind a NAT the real sender shares the attacker's address: valid credentials are never refused.
  expect((await attacker('good')).status).toBe(202);
  // A failure of its own from another address does not block it; signed requests are served.
  expect((await neighbour(`sha256=${'1'.repeat(64)}`)).status).toBe(401);
  expect((await neighbour('good')).status).toBe(202);
  expect((await from('127.0.0.4')('good')).status).toBe(202);
  // The limited address stays limited for failures within the window.
  expect((await attacker(`sha256=${'0'.repeat(64)}`)).status).toBe(429);
});

test('the address counted is the peer address of the socket: a forged X-Forwarded-For changes nothing', async () => {
  const attacker = from('127.0.0.5');
  const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: randomUUID() } }]));
  for (let i = 0; i < 5; i++) {
    const res = await request(`${url}/webhooks/erp`, {
      method: 'POST',
      dispatcher: agents.at(-1),
      headers: { 'content-type': 'application/json', 'ms-signature': 'sha256=00', 'x-forwarded-for': `203.0.113.${i}` },
      body,
    });
    await res.body.dump();
    expect(res.statusCode).toBe(401);
  }
  // Counted against 127.0.0.5 (its socket), not the forged addresses: its next failure is over the limit.
  expect((await attacker(`sha256=${'0'.repeat(64)}`)).status).toBe(429);
});
