import { prettyLogs } from '../../src/observability/logger';

describe('process logs', () => {
  test('readable lines at a terminal outside production', () => {
    expect(prettyLogs({ NODE_ENV: 'development' }, { isTTY: true })).toBe(true);
    expect(prettyLogs({}, { isTTY: true })).toBe(true);
  });

  test('JSON lines in production and when stdout is a pipe or a file', () => {
    expect(prettyLogs({ NODE_ENV: 'production' }, { isTTY: true })).toBe(false);
    expect(prettyLogs({}, { isTTY: false })).toBe(false);
    expect(prettyLogs({}, {})).toBe(false);
  });
});
