import { gateConfigOf, gateMode } from '../../src/shared/gate';
import { gateFieldsProblem } from '../../src/shared/subscription-limits';
import { updateSubscriptionSchema } from '../../src/subscriptions/schema';

describe('gate fields of a subscription', () => {
  test('held, throttled or neither', () => {
    expect(gateMode({})).toBeUndefined();
    expect(gateMode({ rateLimit: 5 })).toBe('throttled');
    expect(gateMode({ maxInFlight: 1 })).toBe('throttled');
    expect(gateMode({ rateLimit: 5, hold: { since: '2026-01-01T00:00:00Z', by: 'operator' } })).toBe('held');
  });

  test('the gate config carries only what is set', () => {
    expect(gateConfigOf({ timeoutMs: 30_000, updatedAt: 'u' })).toEqual({ timeoutMs: 30_000, updatedAt: 'u' });
    expect(gateConfigOf({ timeoutMs: 1, updatedAt: 'u', maxInFlight: 2 })).toEqual({
      timeoutMs: 1,
      updatedAt: 'u',
      maxInFlight: 2,
    });
  });

  test('stored values are bounded (the update validator refuses the rest)', () => {
    expect(gateFieldsProblem({ rateLimit: 0.5, maxInFlight: 3 })).toBeUndefined();
    expect(gateFieldsProblem({ rateLimit: 0 })).toMatch(/rateLimit/);
    expect(gateFieldsProblem({ maxInFlight: 1.5 })).toMatch(/maxInFlight/);
    expect(gateFieldsProblem({ hold: { by: 'operator' } })).toMatch(/hold/);
    expect(gateFieldsProblem({ hold: { since: 'x', by: 'breaker', budgetRuns: 'yes' } })).toMatch(/budgetRuns/);
  });

  test('PATCH takes rateLimit and maxInFlight, null clears them', () => {
    expect(updateSubscriptionSchema.parse({ rateLimit: 5, maxInFlight: 2 })).toEqual({ rateLimit: 5, maxInFlight: 2 });
    expect(updateSubscriptionSchema.parse({ rateLimit: null })).toEqual({ rateLimit: null });
    expect(updateSubscriptionSchema.safeParse({ maxInFlight: 0 }).success).toBe(false);
    expect(updateSubscriptionSchema.safeParse({ hold: { since: 'x', by: 'operator' } }).success).toBe(false);
  });
});
