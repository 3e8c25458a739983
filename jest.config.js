/** Jest runs TypeScript through swc (type checking is `npm run typecheck`). One Temporal dev server per run. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite (processes killed, Temporal stopped) runs separately: npm run test:faults; the
  // console's browser tests too: npm run test:browser.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/', '<rootDir>/test/browser/'],
  transform: { '^.+\\.(ts|js)$': ['@swc/jest'] },
  // ESM-only packages that CommonJS dependents require() (Node 22.12+ can, jest's module system cannot):
  // cookie 2 (light-my-request, for app.inject) and content-disposition (@fastify/static, for /docs).
  transformIgnorePatterns: ['/node_modules/(?!(cookie|content-disposition)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
};
