// Import graph of src/: acyclic and layered. Imports flow one way, top to bottom:
//
//   process / entry   api/, console/, stack/, worker.ts
//   orchestration     workflows/, activities/, temporal/, observability/
//   domain            sources/, subscriptions/, delivery/, signing/, security/, config/
//   base              shared/, errors.ts
//
// A module may import its own layer (without cycles) or any layer below it, never one above; in the
// top layer the console does not import the API (the API mounts the console).
// Type-only imports count: a type cycle is still a cycle between the files that hold it.
// Workflow code is sandboxed and deterministic: it imports only shared/ contracts and activity types,
// and neither it nor shared/ imports Node builtins (eslint checks the workflow files' own import lines).

const entry = '^src/(api|console|stack)/|^src/worker\\.ts$';
const orchestration = '^src/(workflows|activities|temporal|observability)/';
const domain = '^src/(sources|subscriptions|delivery|signing|security|config)/';
const base = '^src/shared/|^src/errors\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form no cycle, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-import-of-entry',
      severity: 'error',
      comment: 'api/, console/, stack/ and worker.ts are process entry layers; lower layers do not import them.',
      from: { path: [orchestration, domain, base] },
      to: { path: entry },
    },
    {
      name: 'no-entry-across',
      severity: 'error',
      comment: 'The API mounts the console, not the other way round: what both need lives in a lower layer.',
      from: { path: '^src/console/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'no-import-of-orchestration',
      severity: 'error',
      comment: 'Domain and base modules do not import workflows, activities, temporal or observability.',
      from: { path: [domain, base] },
      to: { path: orchestration },
    },
    {
      name: 'no-import-of-domain-from-base',
      severity: 'error',
      comment: 'shared/ and errors.ts are the base layer: they import no domain module.',
      from: { path: base },
      to: { path: domain },
    },
    {
      name: 'workflows-no-node-builtins',
      severity: 'error',
      comment:
        'Workflow code runs in the deterministic sandbox: no Node builtins, nor in the shared/ modules it imports.',
      from: { path: ['^src/workflows/', '^src/shared/'] },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workflows-only-contracts',
      severity: 'error',
      comment: 'Workflow code imports other workflow code, the shared/ contracts and (type-only) activities.',
      from: { path: '^src/workflows/' },
      to: { path: '^src/', pathNot: '^src/(workflows|shared)/|^src/activities/' },
    },
    {
      name: 'workflows-activities-type-only',
      severity: 'error',
      comment: 'Workflows call activities through proxyActivities: they import activity types, never their code.',
      from: { path: '^src/workflows/' },
      to: { path: '^src/activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.json'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
