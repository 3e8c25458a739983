import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildApp } from '../../src/api/app';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { extendBody, post, sign } from '../support/webhooks';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(testConfig('sources: [{ id: erp, kind: extend-commerce, secret: s }]'));
});
afterAll(() => h?.stop());

const UI = 'http://localhost:8233';
const asJson = (payload: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

function codecCall(
  path: string,
  payloads: unknown[],
  headers: Record<string, string> = {},
  remoteAddress = '127.0.0.1',
) {
  return h.app.inject({
    method: 'POST',
    url: path,
    remoteAddress,
    headers: { 'content-type': 'application/json', origin: UI, 'x-namespace': 'default', ...headers },
    payload: JSON.stringify({ payloads }),
  });
}

test('history holds ciphertext; POST /codec/decode (the Web UI request format) makes it readable again', async () => {
  const marker = `customer-note-${randomBytes(6).toString('hex')}`;
  const text = JSON.stringify(
    extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'CODEC-1', Note: marker } }]),
  );
  const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms('s', text) });
  const workflowId = res.json().events[0].workflowId;
  await h.client.workflow.getHandle(workflowId).result();

  // Read the raw history without the codec: the input payload is encrypted.
  const raw = await h.client.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId },
  });
  const started = raw.history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  expect(Buffer.from(started.metadata!.encoding!).toString()).toBe('binary/encrypted');
  expect(Buffer.from(started.data!).toString('latin1')).not.toContain(marker);

  const decoded = await codecCall('/codec/decode', [asJson(started)]);
  expect(decoded.statusCode).toBe(200);
  const [payload] = decoded.json().payloads;
  expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).toBe('json/plain');
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString());
  expect(input.event.payload.Details.Note).toBe(marker);
});

test('encode then decode round-trips', async () => {
  const plain = asJson(defaultPayloadConverter.toPayload({ hello: 'world', n: 1 }));
  const encoded = await codecCall('/codec/encode', [plain]);
  expect(encoded.statusCode).toBe(200);
  expect(encoded.json().payloads[0].data).not.toBe(plain.data);
  const decoded = await codecCall('/codec/decode', encoded.json().payloads);
  expect(decoded.json().payloads[0]).toEqual(plain);
});

test('CORS preflight: the UI origin is allowed, others are not', async () => {
  const preflight = (origin: string) =>
    h.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
  const ok = await preflight(UI);
  expect(ok.statusCode).toBe(204);
  expect(ok.headers['access-control-allow-origin']).toBe(UI);
  expect(String(ok.headers['access-control-allow-headers'])).toMatch(/x-namespace/);
  const evil = await preflight('https://evil.example');
  expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  expect((await codecCall('/codec/decode', [], { origin: 'https://evil.example' })).statusCode).toBe(401);
});

test('without a codec token only loopback clients are answered', async () => {
  expect((await codecCall('/codec/decode', [], {}, '10.1.2.3')).statusCode).toBe(401);
});

test('with security.codec.token the bearer token is required', async () => {
  const key = randomBytes(32).toString('base64');
  const config = testConfig(
    `security: { encryptionKeys: [{ id: k1, key: "${key}" }], codec: { token: codec-token-0123456789 } }`,
  );
  const connection = await Connection.connect({ address: config.temporal.address });
  const app = await buildApp({ config, client: new Client({ connection }) });
  try {
    const call = (authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/codec/decode',
        remoteAddress: '10.1.2.3',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: '{"payloads":[]}',
      });
    expect((await call()).statusCode).toBe(401);
    expect((await call('Bearer wrong-token-0123456789')).statusCode).toBe(401);
    expect((await call('Bearer codec-token-0123456789')).statusCode).toBe(200);
  } finally {
    await app.close();
    await connection.close();
  }
});

describe('bounds and garbage', () => {
  const plain = () => asJson(defaultPayloadConverter.toPayload({ n: 1 }));

  test('more payloads than security.codec.maxPayloads (default 500): 413 before any work', async () => {
    const res = await codecCall('/codec/encode', Array.from({ length: 501 }, plain));
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toMatch(/at most 500/);
    expect((await codecCall('/codec/encode', Array.from({ length: 500 }, plain))).statusCode).toBe(200);
  });

  test('a body over security.codec.maxBytes (default 4 MiB): 413', async () => {
    const big = { metadata: {}, data: 'A'.repeat(5 * 1024 * 1024) };
    expect((await codecCall('/codec/encode', [big])).statusCode).toBe(413);
  });

  test('bad ciphertext, an unknown key id, a missing key id: 400, not 500', async () => {
    const [encrypted] = (await codecCall('/codec/encode', [plain()])).json().payloads;
    const flipped = Buffer.from(encrypted.data, 'base64');
    flipped[flipped.length - 1]! ^= 1;
    const cases = [
      { ...encrypted, data: flipped.toString('base64') },
      {
        ...encrypted,
        metadata: { ...encrypted.metadata, 'encryption-key-id': Buffer.from('nope').toString('base64') },
      },
      { metadata: { encoding: encrypted.metadata.encoding }, data: encrypted.data },
      { ...encrypted, data: Buffer.from('short').toString('base64') },
    ];
    for (const payload of cases) {
      const res = await codecCall('/codec/decode', [payload]);
      expect({ status: res.statusCode, error: res.json().error }).toEqual({ status: 400, error: 'invalid_payload' });
    }
  });

  test('without a token, a loopback request through a reverse proxy (Forwarded / X-Forwarded-For) is refused', async () => {
    const proxied: Array<Record<string, string>> = [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9' },
      { 'x-real-ip': '203.0.113.9' },
    ];
    for (const header of proxied) {
      expect((await codecCall('/codec/decode', [], header, '127.0.0.1')).statusCode).toBe(401);
    }
    expect((await codecCall('/codec/decode', [], {}, '127.0.0.1')).statusCode).toBe(200);
  });
});
