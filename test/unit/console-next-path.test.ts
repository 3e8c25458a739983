import { safeNextPath } from '../../src/console/next-path';

test.each([
  ['/console', '/console'],
  ['/console/subscriptions/erp-sync/deliveries', '/console/subscriptions/erp-sync/deliveries'],
  [
    '/console/subscriptions/a/deliveries?test=2026-01-01T00:00:00.000Z',
    '/console/subscriptions/a/deliveries?test=2026-01-01T00:00:00.000Z',
  ],
  ['/console/subscriptions/../../admin', null],
  ['/consolex', null],
  ['/api/subscriptions', null],
  ['//evil.example/console', null],
  ['/\\evil.example', null],
  ['https://evil.example/console', null],
  ['javascript:alert(1)', null],
  ['/console\n/x', null],
  ['/console/login', null],
  ['/console/logout', null],
  ['', null],
  [undefined, null],
  [['/console'], null],
])('next=%j returns to %j', (next, expected) => {
  expect(safeNextPath(next)).toBe(expected);
});
