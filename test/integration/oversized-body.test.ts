import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, testConfig, type Harness } from '../support/harness';

/**
 * A body over the limit is answered 413 with a JSON reason the sender can read, through a real socket:
 * the rest of the body is read and discarded, and the connection is closed only after it, so the
 * sender finishes writing without EPIPE or a reset, and reads the answer.
 */
let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness(testConfig(`sources: [{ id: erp, kind: extend-commerce, secret: s }]`), { worker: false });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(() => h?.stop());

const body = Buffer.from(`{"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`);

/** Sends the whole body as node:http does (the sender writes everything before it reads the answer). */
function send(withLength: boolean) {
  return new Promise<{ status?: number; text: string; errors: string[] }>((resolve) => {
    const errors: string[] = [];
    let status: number | undefined;
    let text = '';
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/erp',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', ...(withLength ? { 'content-length': body.length } : {}) },
      },
      (res) => {
        status = res.statusCode;
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      },
    );
    req.on('error', (err) => errors.push(err.message));
    req.on('close', () => setImmediate(() => resolve({ status, text, errors })));
    if (withLength) req.end(body);
    else {
      for (let offset = 0; offset < body.length; offset += 65_536) req.write(body.subarray(offset, offset + 65_536));
      req.end();
    }
  });
}

test.each([
  ['with Content-Length', true],
  ['chunked', false],
])('5 MiB %s: 413 with a JSON reason, no write error or reset on the sender', async (_, withLength) => {
  const { status, text, errors } = await send(withLength);
  expect(errors).toEqual([]);
  expect(status).toBe(413);
  expect(JSON.parse(text)).toMatchObject({ error: 'payload_too_large', message: expect.any(String) });
});
