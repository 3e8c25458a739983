import { parseConfig } from '../../src/config/load';

const invalid = (yaml: string) => () => parseConfig(yaml, {}, 'config');

describe('durations have a range per key, and the error names the key', () => {
  test.each([
    ['server: { ackTimeout: P1W }', /server\.ackTimeout: "P1W" is out of bounds: use PT0\.1S to PT1M/],
    [
      'delivery: { ordering: { settle: P24D } }',
      /delivery\.ordering\.settle: "P24D" is out of bounds: use PT0\.01S to PT5M/,
    ],
    [
      'delivery: { ordering: { idle: PT0.001S } }',
      /delivery\.ordering\.idle: "PT0\.001S" is out of bounds: use PT0\.1S to P1D/,
    ],
    ['delivery: { ordering: { maxHold: P30D } }', /delivery\.ordering\.maxHold: "P30D" is out of bounds/],
    [
      'sources: [{ id: a, kind: automation-api, key: k, dedupWindow: PT0.001S }]',
      /sources\[0\]\.dedupWindow: "PT0\.001S" is out of bounds: use PT1S to P7D/,
    ],
    [
      'server: { requestTimeout: PT0.5S, headersTimeout: PT0.5S }',
      /server\.requestTimeout: "PT0\.5S" is out of bounds/,
    ],
    ['server: { rateLimit: { window: PT0.1S } }', /server\.rateLimit\.window: "PT0\.1S" is out of bounds/],
    ['delivery: { oneDay: { window: P30D } }', /delivery\.oneDay\.window: "P30D" is out of bounds/],
  ])('%s', (yaml, message) => {
    expect(invalid(yaml)).toThrow(message);
  });

  test('values inside the ranges are taken, in milliseconds', () => {
    const config = parseConfig(
      `server: { ackTimeout: PT1M }
delivery: { ordering: { settle: PT0.01S, idle: PT0.1S, maxHold: P1D } }
sources: [{ id: a, kind: automation-api, key: k, dedupWindow: P7D }]`,
      {},
      'config',
    );
    expect(config.server.ackTimeout).toBe(60_000);
    expect(config.delivery.ordering).toEqual({ settle: 10, idle: 100, maxHold: 86_400_000 });
    const source = config.sources[0];
    expect(source?.kind === 'automation-api' && source.dedupWindow).toBe(7 * 86_400_000);
  });
});
