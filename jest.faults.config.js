/**
 * `npm run test:faults`: the fault-injection suite (test/faults). Separate from the main suite because it
 * is slow (real processes killed and restarted, a Temporal outage, 1,000 webhooks) and needs a machine
 * to itself: it is run in band, after the main suite, with a generous timeout per test.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest configs are CommonJS
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/faults'],
  // Explicit, so an exclusion of test/faults added to the main config is not inherited here.
  testPathIgnorePatterns: ['/node_modules/'],
  // The in-memory dev server of globalSetup serves bad-input.test.ts (startHarness) and the workflow
  // bundle serves the in-process worker of temporal-outage.test.ts. The crash and outage tests also
  // start dev servers of their own, on SQLite files, because they kill or stop them.
  globalSetup: base.globalSetup,
  globalTeardown: base.globalTeardown,
  testTimeout: 15 * 60_000,
};
