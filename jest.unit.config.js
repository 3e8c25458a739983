/**
 * `npm run test:unit`: the unit tests (test/unit) alone, in seconds: no global setup, so no Temporal dev
 * server and no workflow bundle. `npm test` runs them too, with everything else.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest configs are CommonJS
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/unit'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
