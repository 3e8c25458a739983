import type { Client } from '@temporalio/client';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';
import { trickle } from '../support/trickle';

/**
 * Slow clients: a real listening server on 127.0.0.1 with a 1 s header timeout and a
 * 2 s request timeout, and a raw socket that trickles a byte at a time. The connection must be cut while
 * the client is still trickling. The trickle lasts 15 s: Node's default check every 30 s (which made a
 * configured 30 s act as 40-70 s) lets it finish; checking as configured cuts it within a few seconds.
 */

let app: HookflowApp;
let port: number;

beforeAll(async () => {
  const config = parseConfig(
    `
server: { requestTimeout: PT2S, headersTimeout: PT1S }
sources: [{ id: erp, kind: extend-commerce, secret: s }]
`,
    {},
  );
  app = await buildApp({ config, client: {} as Client });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(() => app?.close());

test('the listening server has the configured bounds (Node headersTimeout, requestTimeout; idle socket timeout)', () => {
  expect(app.server.headersTimeout).toBe(1000);
  expect(app.server.requestTimeout).toBe(2000);
  expect(app.server.timeout).toBe(2000 + 5000);
});

test('headers trickled past server.headersTimeout: the connection is cut (408) while the client is still sending', async () => {
  const { cut, response } = await trickle(
    port,
    'POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1\r\n',
    'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n',
  );
  expect(cut).toBe(true);
  expect(response).toMatch(/^HTTP\/1\.1 408/);
});

test('a body trickled past server.requestTimeout: the connection is cut (408) while the client is still sending', async () => {
  const head =
    'POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nms-signature: sha256=00\r\nContent-Length: 100000\r\n\r\n';
  const { cut, response } = await trickle(port, head, '{"a":1}');
  expect(cut).toBe(true);
  expect(response).toMatch(/^HTTP\/1\.1 408/);
});
