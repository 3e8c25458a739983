import { parseConfig } from '../../src/config/load';
import { acceptedAfter, coalesceKeyValues, coalesceTypeMatches } from '../../src/shared/coalesce';

describe('coalescing: key, types and acceptance order', () => {
  test('key fields are read from Extend Details (where ProductNumber and Warehouse live), else from the top level', () => {
    const extend = {
      Id: 'x',
      Action: 'AvailableBalanceChanged',
      Details: { ProductNumber: '8684', Warehouse: 'YX', AvailableBalance: 22 },
    };
    expect(coalesceKeyValues(extend, ['ProductNumber', 'Warehouse'])).toEqual({
      ProductNumber: '8684',
      Warehouse: 'YX',
    });
    expect(coalesceKeyValues({ orderId: 7, goodsOwnerId: 162 }, ['orderId'])).toEqual({ orderId: '7' });
    expect(coalesceKeyValues({ Details: { Order: { OrderNumber: 'SO-1' } } }, ['Order.OrderNumber'])).toEqual({
      'Order.OrderNumber': 'SO-1',
    });
    // A missing or non-scalar field: the event is not coalesced.
    expect(coalesceKeyValues({ Details: { ProductNumber: '8684' } }, ['ProductNumber', 'Warehouse'])).toBeUndefined();
    expect(coalesceKeyValues({ Details: { ProductNumber: { a: 1 } } }, ['ProductNumber'])).toBeUndefined();
  });

  test('types match bare or namespaced', () => {
    expect(coalesceTypeMatches(['BalanceChanged'], 'extend-commerce.BalanceChanged')).toBe(true);
    expect(coalesceTypeMatches(['extend-commerce.BalanceChanged'], 'extend-commerce.BalanceChanged')).toBe(true);
    expect(coalesceTypeMatches(['BalanceChanged'], 'extend-commerce.AvailableBalanceChanged')).toBe(false);
    expect(coalesceTypeMatches(['ongoing-wms.BalanceChanged'], 'extend-commerce.BalanceChanged')).toBe(false);
  });

  test('acceptance order: request time, then position in the request, then id', () => {
    const at = (receivedAt: string, position: number, eventId = 'e') => ({ receivedAt, position, eventId });
    expect(acceptedAfter(at('2026-11-24T10:00:00.002Z', 0), at('2026-11-24T10:00:00.001Z', 99))).toBe(true);
    expect(acceptedAfter(at('2026-11-24T10:00:00.001Z', 5), at('2026-11-24T10:00:00.001Z', 4))).toBe(true);
    expect(acceptedAfter(at('2026-11-24T10:00:00.001Z', 4), at('2026-11-24T10:00:00.001Z', 5))).toBe(false);
    expect(acceptedAfter(at('2026-11-24T10:00:00.001Z', 4, 'b'), at('2026-11-24T10:00:00.001Z', 4, 'a'))).toBe(true);
  });
});

describe('config file subscriptions: coalesce and refreshFollowUpAfter', () => {
  const yaml = (fields: string) => `
security: { encryptionKeys: [{ id: k1, key: "${Buffer.alloc(32, 1).toString('base64')}" }] }
subscriptions:
  - id: stock
    name: Stock
    contactEmail: ops@example.com
    url: https://stock.example.com/hooks
    triggers: [extend-commerce.*]
${fields}`;

  test('parsed into milliseconds', () => {
    const config = parseConfig(
      yaml(`    coalesce: { window: PT5S, key: [ProductNumber, Warehouse], types: [AvailableBalanceChanged, BalanceChanged] }
    refreshFollowUpAfter: PT1H`),
      {},
    );
    expect(config.subscriptions[0]).toMatchObject({
      coalesce: {
        window: 5_000,
        key: ['ProductNumber', 'Warehouse'],
        types: ['AvailableBalanceChanged', 'BalanceChanged'],
      },
      refreshFollowUpAfter: 3_600_000,
    });
  });

  test.each([
    [
      '    coalesce: { window: PT2H, key: [ProductNumber], types: [BalanceChanged] }',
      /subscriptions\[0\]\.coalesce\.window/,
    ],
    ['    coalesce: { window: PT5S, key: [], types: [BalanceChanged] }', /subscriptions\[0\]\.coalesce\.key/],
    ['    refreshFollowUpAfter: PT1S', /subscriptions\[0\]\.refreshFollowUpAfter/],
  ])('%s is refused, naming the key', (fields, message) => {
    expect(() => parseConfig(yaml(fields), {})).toThrow(message);
  });
});
