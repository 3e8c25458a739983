// Mirrors the rules of Temporal's TypeScript samples: no floating promises anywhere, and workflow code
// (deterministic, sandboxed) may not import Node builtins or anything but @temporalio/workflow.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
          patterns: [
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', 'undici', 'fastify', 'pino'],
              message: 'Workflow code imports only @temporalio/workflow, shared types and pure modules.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'src/stack/**/*.ts',
      'src/api/server.ts',
      'src/worker.ts',
    ],
    rules: { 'no-console': 'off' },
  },
);
