import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/shared/search-attributes';

test('the production scripts register exactly the search attributes the code uses', () => {
  const lines = readFileSync(resolve(__dirname, '../../scripts/prod/search-attributes.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'));
  const fromScript = Object.fromEntries(lines.map((line) => line.trim().split(/\s+/) as [string, string]));
  expect(fromScript).toEqual(SEARCH_ATTRIBUTE_TYPES);
});
