/** Jest runs TypeScript through swc (type checking is `npm run typecheck`). One Temporal dev server per run. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(ts|js)$': ['@swc/jest'] },
  // light-my-request (app.inject) requires the ESM-only `cookie` 2; Node 20 can, jest's module system cannot.
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
};
