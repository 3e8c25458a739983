import { connect, type Socket } from 'node:net';
import type { Client } from '@temporalio/client';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';

/**
 * Slow clients (issue 13, item 13): a real listening server on 127.0.0.1 with a 1 s header timeout and a
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

const TRICKLE_MS = 15_000;

test('the listening server has the configured bounds (Node headersTimeout, requestTimeout; idle socket timeout)', () => {
  expect(app.server.headersTimeout).toBe(1000);
  expect(app.server.requestTimeout).toBe(2000);
  expect(app.server.timeout).toBe(2000 + 5000);
});

/** Sends `head` at once, then one byte of `trickle` every 100 ms; resolves when the server closes or the trickle ends. */
function trickle(head: string, trickleText: string): Promise<{ cut: boolean; response: string }> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let response = '';
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (cut: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      socket.destroy();
      resolve({ cut, response });
    };
    socket.on('data', (chunk) => (response += chunk.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(head);
      const started = Date.now();
      let i = 0;
      timer = setInterval(() => {
        if (Date.now() - started > TRICKLE_MS) return finish(false);
        socket.write(trickleText[i++ % trickleText.length]!);
      }, 100);
    });
  });
}

test('headers trickled past server.headersTimeout: the connection is cut (408) while the client is still sending', async () => {
  const { cut, response } = await trickle('POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
  expect(cut).toBe(true);
  expect(response).toMatch(/^HTTP\/1\.1 408/);
});

test('a body trickled past server.requestTimeout: the connection is cut (408) while the client is still sending', async () => {
  const head = 'POST /webhooks/erp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nms-signature: sha256=00\r\nContent-Length: 100000\r\n\r\n';
  const { cut, response } = await trickle(head, '{"a":1}');
  expect(cut).toBe(true);
  expect(response).toMatch(/^HTTP\/1\.1 408/);
});
