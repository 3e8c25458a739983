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
  // globalSetup (inherited) gives bad-input.test.ts its Temporal and workflow bundle (startHarness).
  // The process tests (crash, outage, restart) start a Temporal of their own (test/faults/support/
  // temporal-tier.ts), because they stop it, unless they run on the PostgreSQL tier.
  testTimeout: 15 * 60_000,
};
