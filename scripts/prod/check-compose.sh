#!/usr/bin/env bash
# Static checks of docker-compose.yml for machines without a container engine: they catch the
# mistakes that otherwise only show at `docker compose up` on a deployment host.
# Also runs `docker compose config` (full schema + interpolation check) when a compose CLI exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f node_modules/yaml/package.json ] || { echo "node_modules/yaml missing: run npm ci first" >&2; exit 1; }

node - <<'JS'
const fs = require('node:fs');
const YAML = require('yaml');
const errors = [];
const fail = (msg) => errors.push(msg);

// merge: compose files use YAML merge keys (<<: *anchor).
const doc = YAML.parseDocument(fs.readFileSync('docker-compose.yml', 'utf8'), { merge: true });
if (doc.errors.length) { console.error(doc.errors.map(String).join('\n')); process.exit(1); }
const services = doc.toJS({ maxAliasCount: -1 }).services ?? {};

for (const [name, svc] of Object.entries(services)) {
  const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
  for (const dep of deps) if (!services[dep]) fail(`${name}: depends_on unknown service "${dep}"`);
  if (svc.build) {
    const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
    const context = build.context ?? '.';
    if (!fs.existsSync(context)) fail(`${name}: build context ${context} does not exist`);
    const dockerfile = `${context}/${build.dockerfile ?? 'Dockerfile'}`;
    if (!fs.existsSync(dockerfile)) fail(`${name}: ${dockerfile} does not exist`);
  }
  for (const volume of svc.volumes ?? []) {
    const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
    if (/^[./]/.test(source) && !fs.existsSync(source)) fail(`${name}: bind mount source ${source} does not exist`);
  }
  // dist/src/x.js is compiled from src/x.ts: catches a command left behind by a file move.
  for (const arg of [].concat(svc.command ?? [])) {
    const m = /^dist\/(.+)\.js$/.exec(arg);
    if (m && !fs.existsSync(`${m[1]}.ts`)) fail(`${name}: command runs ${arg} but ${m[1]}.ts does not exist`);
  }
}

const worker = services['hookflow-worker'];
if (!worker) fail('no hookflow-worker service');
else {
  // `--scale hookflow-worker=N` needs N containers with distinct names and no host port clash.
  if (worker.ports) fail('hookflow-worker must not publish ports (it is scaled)');
  if (worker.container_name) fail('hookflow-worker must not set container_name (it is scaled)');
}

const parse = (text) => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/).join(' ')).sort();
const fromFile = parse(fs.readFileSync('scripts/prod/search-attributes.txt', 'utf8'));
const fromCompose = parse(services['temporal-setup']?.environment?.HOOKFLOW_SEARCH_ATTRIBUTES ?? '');
const onlyIn = (a, b) => a.filter((x) => !b.includes(x));
if (onlyIn(fromFile, fromCompose).length || onlyIn(fromCompose, fromFile).length) {
  fail(`search attributes differ: only in search-attributes.txt: [${onlyIn(fromFile, fromCompose)}]; only in docker-compose.yml: [${onlyIn(fromCompose, fromFile)}]`);
}

// Warning only: the TypeScript list is edited separately and may briefly run ahead or behind.
const tsPath = 'src/shared/search-attributes.ts';
if (fs.existsSync(tsPath)) {
  const types = { KEYWORD: 'Keyword', INT: 'Int', KEYWORD_LIST: 'KeywordList', TEXT: 'Text', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime' };
  const fromTs = [...fs.readFileSync(tsPath, 'utf8').matchAll(/defineSearchAttributeKey\(\s*'(\w+)',\s*SearchAttributeType\.(\w+)/g)]
    .map(([, n, t]) => `${n} ${types[t] ?? t}`).sort();
  if (onlyIn(fromFile, fromTs).length || onlyIn(fromTs, fromFile).length) {
    console.warn(`warning: ${tsPath} differs from search-attributes.txt: only in .txt: [${onlyIn(fromFile, fromTs)}]; only in .ts: [${onlyIn(fromTs, fromFile)}]`);
  }
}

if (errors.length) { console.error(errors.map((e) => `error: ${e}`).join('\n')); process.exit(1); }
console.log(`docker-compose.yml: ${Object.keys(services).length} services, static checks passed`);
JS

# Dummy values: the file requires its secrets (${VAR:?}), and only the structure is checked here.
compose=()
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose); fi
if [ ${#compose[@]} -gt 0 ]; then
  env POSTGRES_PASSWORD=x EXTEND_WEBHOOK_SECRET=x ONGOING_WEBHOOK_PASSWORD=x ONGOING_WEBHOOK_TOKEN=x \
    AUTOMATION_WEBHOOK_SECRET=x AUTOMATION_WEBHOOK_KEY=x "${compose[@]}" -f docker-compose.yml config --quiet
  echo "${compose[*]} config: valid"
else
  echo "no docker compose CLI: skipped the compose schema check"
fi
