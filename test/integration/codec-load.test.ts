import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CODEC_MAX_IN_FLIGHT } from '../../src/api/routes/codec';
import { startHarness, testConfig, type Harness } from '../support/harness';

/**
 * The codec's bound on requests in flight, counted through real sockets: requests whose bodies are
 * still arriving hold their slots, the next one gets 503 + Retry-After, and a freed slot is reused.
 */
let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness(testConfig(''), { worker: false });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(() => h?.stop());

const body = JSON.stringify({
  payloads: [
    { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('1').toString('base64') },
  ],
});

/** A codec request whose body is sent only up to half: it stays in flight until `finish` or `abort`. */
function unfinished() {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/codec/encode',
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': body.length },
  });
  const answer = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  req.write(body.slice(0, 10));
  req.flushHeaders();
  return { finish: () => req.end(body.slice(10)), answer };
}

const encode = () =>
  fetch(`http://127.0.0.1:${port}/codec/encode`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });

/** The server counts a held request once its headers are in: asks until refused (or gives up). */
async function untilRefused() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await encode();
    await res.arrayBuffer();
    if (res.status === 503) return res;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('never refused');
}

test(`over ${CODEC_MAX_IN_FLIGHT} codec requests in flight: 503 with Retry-After; health is not affected; a freed slot serves again`, async () => {
  expect((await encode()).status).toBe(200);
  const held = Array.from({ length: CODEC_MAX_IN_FLIGHT }, unfinished);
  const refused = await untilRefused();
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('1');
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

  held[0]!.finish();
  expect(await held[0]!.answer).toBe(200);
  expect((await encode()).status).toBe(200);
  held[1]!.finish();
  expect(await held[1]!.answer).toBe(200);
});
