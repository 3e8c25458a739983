/**
 * `npm run test:browser`: the console in a real Chromium (Debian's `chromium`, driven by playwright-core)
 * against a real dev server with its Web UI, the worker and the API on loopback. Separate from the main
 * suite because it needs the browser (scripts/ensure-chromium.sh installs it).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest configs are CommonJS
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/browser/global-setup.ts',
  testTimeout: 120_000,
};
