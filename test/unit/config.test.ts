import { parseIsoDurationMs } from '../../src/config/duration';
import { ConfigError, parseConfig } from '../../src/config/load';

describe('ISO-8601 durations', () => {
  test.each([
    ['PT30S', 30_000],
    ['PT60S', 60_000],
    ['PT1M30S', 90_000],
    ['PT0.5S', 500],
    ['P1D', 86_400_000],
    ['PT24H', 86_400_000],
    ['pt2m', 120_000],
  ])('%s = %d ms', (text, ms) => expect(parseIsoDurationMs(text)).toBe(ms));

  test.each(['30', 'P', 'PT', 'P1M', 'P1Y', '30s', 'PT-5S'])('refuses %s', (text) =>
    expect(parseIsoDurationMs(text)).toBeUndefined(),
  );
});

describe('config', () => {
  const valid = `
sources:
  - id: extend
    kind: extend-commerce
    secret: \${EXTEND_SECRET}
    filter: { warehouses: [ADR-1] }
    followUp:
      urls: { OrderCreated: "http://127.0.0.1:1/orders/{OrderNumber}" }
      timeout: PT5S
  - id: ongoing
    kind: ongoing-wms
    auth: { type: basic, username: u, password: p }
  - id: esign
    kind: automation-api
    key: k
`;

  test('applies defaults, expands env vars and converts durations', () => {
    const config = parseConfig(valid, { EXTEND_SECRET: 's3cret' });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 3000,
      bodyLimitBytes: 1048576,
      ackTimeout: 5000,
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      rateLimit: { max: 1200, window: 60_000 },
      authFailureLimit: { max: 100, window: 60_000 },
      trustedProxies: [],
      envelopes: { splitAbove: 100, maxNotifications: 20_000 },
      ops: { host: '127.0.0.1' },
    });
    expect(config.temporal).toEqual({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'hookflow',
      maxCachedWorkflows: 200,
    });
    const extend = config.sources[0];
    expect(extend?.kind === 'extend-commerce' && extend.secret[0]?.value).toBe('s3cret');
    expect(extend?.followUp?.timeout).toBe(5000);
    expect(extend?.followUp?.auth).toEqual({ type: 'none' });
    const esign = config.sources[2];
    expect(esign?.kind === 'automation-api' && esign.dedupWindow).toBe(60_000);
  });

  test('PORT and TEMPORAL_ADDRESS override the file', () => {
    const config = parseConfig(valid, { EXTEND_SECRET: 'x', PORT: '8080', TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(config.server.port).toBe(8080);
    expect(config.temporal.address).toBe('temporal:7233');
  });

  test('a missing environment variable names the key and the variable', () => {
    expect(() => parseConfig(valid, {})).toThrow(/sources\[0\]\.secret: environment variable EXTEND_SECRET is not set/);
  });

  test('$${NAME} stays literal', () => {
    const config = parseConfig(
      valid.replace('${EXTEND_SECRET}', () => '$${NOT_EXPANDED}'),
      {},
    );
    const extend = config.sources[0];
    expect(extend?.kind === 'extend-commerce' && extend.secret[0]?.value).toBe('${NOT_EXPANDED}');
  });

  test.each([
    ['an unknown kind', 'sources: [{ id: a, kind: shopify }]', /sources\[0\]\.kind/],
    ['a missing secret', 'sources: [{ id: a, kind: extend-commerce }]', /sources\[0\]\.secret/],
    [
      'a bad duration',
      'sources: [{ id: a, kind: automation-api, dedupWindow: 30s }]',
      /sources\[0\]\.dedupWindow: "30s" is not a positive ISO-8601 duration/,
    ],
    ['a typo in a key', 'server: { prot: 3000 }', /server.*prot/],
    [
      'duplicate ids',
      'sources: [{ id: a, kind: ongoing-wms, auth: {type: none} }, { id: a, kind: ongoing-wms, auth: {type: none} }]',
      /sources\[1\]\.id: duplicate source id "a"/,
    ],
    ['a bad id', 'sources: [{ id: "A B", kind: ongoing-wms, auth: {type: none} }]', /sources\[0\]\.id/],
    ['bad YAML', 'sources: [', /not valid YAML/],
    ['a bad PORT', '{}', /PORT/],
  ])('refuses %s with an error naming the key', (_name, yaml, message) => {
    const env = _name === 'a bad PORT' ? { PORT: 'eighty' } : {};
    expect(() => parseConfig(yaml, env)).toThrow(ConfigError);
    expect(() => parseConfig(yaml, env)).toThrow(message);
  });
});
