import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';
import { createLogger, loggerOptions, maskCredentialParams, REDACT_PATHS } from '../../src/observability/logger';
import { SOURCES } from '../../src/sources';
import { redactQueryValues } from '../../src/observability/redact-query';

/** A pino destination that keeps every line. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, text: () => lines.join('\n'), lines };
}

const SECRETS = {
  authorization: 'Basic c2VjcmV0LWJhc2ljOnB3',
  'ms-signature': 'sha256=MS-SIGNATURE-SECRET',
  'x-signature': 'x-signature-secret-hex',
  'x-auth-token': 'x-auth-token-secret',
  'webhook-signature': 'v1,standard-webhooks-secret',
  cookie: 'session=cookie-secret',
};
const QUERY_KEY = 'automation-key-secret';

describe('log redaction', () => {
  let app: HookflowApp;
  const out = capture();

  beforeAll(async () => {
    const config = parseConfig(
      `
sources:
  - { id: erp, kind: extend-commerce, secret: extend-config-secret }
  - { id: esign, kind: automation-api, key: ${QUERY_KEY} }
`,
      {},
    );
    // No Temporal needed: every request here is refused before a workflow would be started.
    app = await buildApp({ config, client: {} as Client, logger: { ...loggerOptions('info'), stream: out.stream } });
  });
  afterAll(() => app.close());

  test('credential headers and the ?key= parameter never reach the log', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/webhooks/esign?key=${QUERY_KEY}&other=1`,
      payload: '{}',
      headers: { 'content-type': 'application/json', ...SECRETS },
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    const incoming = out.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'incoming request');
    expect(incoming.req.url).toBe('/webhooks/esign?key=[Redacted]&other=[Redacted]');
    for (const header of Object.keys(SECRETS)) expect(incoming.req.headers[header]).toBe('[Redacted]');
    expect(incoming.req.headers['content-type']).toBe('application/json'); // the rest stays readable
    for (const secret of [...Object.values(SECRETS), QUERY_KEY]) expect(out.text()).not.toContain(secret);
  });

  test.each(SOURCES.map((source) => [source.kind, source.secretHeaders] as const))(
    'every secret header of the %s module is redacted',
    (_kind, headers) => {
      expect(headers.length).toBeGreaterThan(0);
      const log = capture();
      const sent = Object.fromEntries(headers.map((name) => [name, `secret-of-${name}`]));
      createLogger('info', log.stream).info(
        { req: { method: 'POST', url: '/webhooks/x', headers: { ...sent, 'content-type': 'application/json' } } },
        'incoming request',
      );
      const line = JSON.parse(log.lines[0]!);
      for (const name of headers) {
        expect(name).toBe(name.toLowerCase()); // Node lower-cases incoming header names
        expect(REDACT_PATHS).toContain(`req.headers["${name}"]`);
        expect(line.req.headers[name]).toBe('[Redacted]');
      }
      expect(line.req.headers['content-type']).toBe('application/json');
      for (const value of Object.values(sent)) expect(log.text()).not.toContain(value);
    },
  );

  test('secret, password, token and clientKey fields up to three levels deep', () => {
    const log = capture();
    createLogger('info', log.stream).info(
      {
        secret: 's-top',
        source: { secret: 's-one', auth: { password: 'p-two', token: 't-two' } },
        subscription: { tls: { client: { clientKey: 'ck-three' } } },
        clientKey: 'ck-top',
      },
      'config loaded',
    );
    const line = JSON.parse(log.lines[0]!);
    expect(line).toMatchObject({
      secret: '[Redacted]',
      clientKey: '[Redacted]',
      source: { secret: '[Redacted]', auth: { password: '[Redacted]', token: '[Redacted]' } },
      subscription: { tls: { client: { clientKey: '[Redacted]' } } },
    });
    for (const secret of ['s-top', 's-one', 'p-two', 't-two', 'ck-three', 'ck-top'])
      expect(log.text()).not.toContain(secret);
  });

  test('a token under any query name is redacted in the logged URL; names and valueless flags stay', async () => {
    const before = out.lines.length;
    await app.inject({ method: 'GET', url: '/healthz?x=tok-x-secret&next=tok-next-secret&flag&empty=' });
    const logged = out.lines.slice(before).join('\n');
    expect(logged).not.toMatch(/tok-x-secret|tok-next-secret/);
    expect(logged).toContain('/healthz?x=[Redacted]&next=[Redacted]&flag&empty=');
    expect(redactQueryValues('/a?b=1&c=2=3#frag')).toBe('/a?b=[Redacted]&c=[Redacted]#[Redacted]');
    expect(redactQueryValues('/a/b')).toBe('/a/b');
  });

  test('maskCredentialParams leaves other parameters alone', () => {
    expect(maskCredentialParams('/webhooks/x?a=1&key=abc&b=2')).toBe('/webhooks/x?a=1&key=[Redacted]&b=2');
    expect(maskCredentialParams('/webhooks/x?monkey=1')).toBe('/webhooks/x?monkey=1');
  });

  test('every credential-like query parameter is masked, however it is spelled', () => {
    expect(maskCredentialParams('/api/x?token=t1&access_token=t2&API_KEY=t3&password=t4&page=2')).toBe(
      '/api/x?token=[Redacted]&access_token=[Redacted]&API_KEY=[Redacted]&password=[Redacted]&page=2',
    );
    // Percent-encoded names, bracket suffixes, names without a value, a fragment.
    expect(maskCredentialParams('/api/x?%74oken=t1&secret[]=t2&sig&q=1#frag')).toBe(
      '/api/x?%74oken=[Redacted]&secret[]=[Redacted]&sig=[Redacted]&q=1#frag',
    );
  });
});

describe('admin credentials', () => {
  const ADMIN = 'admin-token-0123456789abcdef';
  let app: HookflowApp;
  const out = capture();
  beforeAll(async () => {
    const config = parseConfig(
      `admin: { token: ${ADMIN} }\nsecurity: { encryptionKeys: [{ id: k, key: "${Buffer.alloc(32, 7).toString('base64')}" }] }`,
      {},
    );
    app = await buildApp({ config, client: {} as Client, logger: { ...loggerOptions('info'), stream: out.stream } });
  });
  afterAll(() => app.close());

  test.each(['token', 'access_token', 'Access_Token', 'api_key'])(
    'a token in ?%s= is refused (400, even when right) and never logged',
    async (name) => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/subscriptions?${name}=${ADMIN}`,
        remoteAddress: '10.9.8.7',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/query string/);
      expect(out.text()).not.toContain(ADMIN);
      const warned = out.lines
        .map((l) => JSON.parse(l))
        .find((l) => l.msg.includes('query string') && l.parameters?.includes(name));
      expect(warned).toMatchObject({ level: 40, clientAddress: '10.9.8.7' });
    },
  );

  test('a wrong bearer token is logged at warn (not error) with the client address', async () => {
    const before = out.lines.length;
    const res = await app.inject({
      method: 'GET',
      url: '/api/subscriptions',
      remoteAddress: '10.1.1.9',
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    expect(res.statusCode).toBe(401);
    const lines = out.lines.slice(before).map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.find((l) => l.msg === 'admin authentication failed')).toMatchObject({
      level: 40,
      clientAddress: '10.1.1.9',
    });
    expect(out.text()).not.toContain('wrong-token-0123456789');
  });
});

describe('request ids', () => {
  let app: HookflowApp;
  beforeAll(async () => {
    app = await buildApp({ config: parseConfig('{}', {}), client: {} as Client });
  });
  afterAll(() => app.close());

  test('a well-formed x-request-id is kept and echoed; anything else gets a fresh UUID', async () => {
    const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'lb-7f3a.1' } });
    expect(given.headers['x-request-id']).toBe('lb-7f3a.1');
    const bad = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const none = await app.inject({ url: '/nowhere' });
    expect(none.statusCode).toBe(404);
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
