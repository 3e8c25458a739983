import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../src/stack/dev-server';

// The production tier (scripts/prod/dynamicconfig.yaml, also mounted by docker-compose.yml) and every dev
// server (npm start, the tests, the bench) must run with the same Temporal settings, or the bench
// measures one thing and production runs another.
const production = parse(readFileSync(resolve(__dirname, '../../scripts/prod/dynamicconfig.yaml'), 'utf8')) as Record<
  string,
  Array<{ value: unknown }>
>;

// Settings only the dev server needs: it undoes the CLI's own overrides of Temporal's defaults.
const DEV_ONLY = ['system.forceSearchAttributesCacheRefreshOnRead'];

test('the production tier sets every dev-server setting to the same value', () => {
  const shared = Object.keys(DEV_SERVER_DYNAMIC_CONFIG).filter((key) => !DEV_ONLY.includes(key));
  expect(Object.keys(production).sort()).toEqual(shared.sort());
  for (const key of shared) expect(production[key]).toEqual([{ value: DEV_SERVER_DYNAMIC_CONFIG[key] }]);
});

test("the dev server's only extra settings put Temporal's production defaults back", () => {
  // Temporal's default for this one is false; the CLI turns it on for run-time search attributes.
  expect(DEV_SERVER_DYNAMIC_CONFIG['system.forceSearchAttributesCacheRefreshOnRead']).toBe(false);
});
