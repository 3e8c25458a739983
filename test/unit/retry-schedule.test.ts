import { createSubscriptionSchema, updateSubscriptionSchema } from '../../src/subscriptions/schema';
import { storedSubscriptionProblem } from '../../src/shared/subscription-limits';
import { parseConfig } from '../../src/config/load';

const base = {
  id: 'erp',
  name: 'ERP',
  contactEmail: 'ops@example.com',
  url: 'https://erp.example.com/hooks',
  triggers: ['*'],
};
const schedule = {
  initialIntervalMs: 30_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 300_000,
  maximumDurationMs: 3_600_000,
};

/** The messages of a refused input, by field path. */
function problems(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) {
  return Object.fromEntries((result.error?.issues ?? []).map((i) => [i.path.map(String).join('.'), i.message]));
}

describe('retryPolicy custom with retrySchedule', () => {
  test('accepted with a schedule within bounds', () => {
    const parsed = createSubscriptionSchema.parse({ ...base, retryPolicy: 'custom', retrySchedule: schedule });
    expect(parsed.retrySchedule).toEqual(schedule);
  });

  test('custom without a schedule, a schedule without custom: refused in words', () => {
    expect(problems(createSubscriptionSchema.safeParse({ ...base, retryPolicy: 'custom' }))).toEqual({
      retrySchedule: expect.stringMatching(/retryPolicy custom needs a retrySchedule/),
    });
    expect(
      problems(createSubscriptionSchema.safeParse({ ...base, retryPolicy: 'one-day', retrySchedule: schedule })),
    ).toEqual({ retrySchedule: 'a retrySchedule applies only with retryPolicy custom (not one-day)' });
  });

  test('out of bounds: more than 7 days, a coefficient below 1, a longest wait shorter than the first', () => {
    const result = createSubscriptionSchema.safeParse({
      ...base,
      retryPolicy: 'custom',
      retrySchedule: {
        initialIntervalMs: 60_000,
        backoffCoefficient: 0.5,
        maximumIntervalMs: 60_000,
        maximumDurationMs: 8 * 86_400_000,
      },
    });
    expect(problems(result)).toEqual({
      'retrySchedule.backoffCoefficient': 'backoffCoefficient must be at least 1 (1 = the same wait every time)',
      'retrySchedule.maximumDurationMs': 'how long attempts go on must be at most 604800000 ms (7 days)',
    });
    const order = createSubscriptionSchema.safeParse({
      ...base,
      retryPolicy: 'custom',
      retrySchedule: { ...schedule, maximumIntervalMs: 1_000 },
    });
    expect(problems(order)).toEqual({
      'retrySchedule.maximumIntervalMs':
        'the longest wait (maximumIntervalMs) must be at least the first one (initialIntervalMs)',
    });
  });

  test('PATCH: a schedule alone is taken; the stored subscription must have one with custom', () => {
    expect(updateSubscriptionSchema.safeParse({ retrySchedule: schedule }).success).toBe(true);
    expect(storedSubscriptionProblem({ ...base, active: true, retryPolicy: 'custom' })).toMatch(/^retrySchedule:/);
    expect(
      storedSubscriptionProblem({ ...base, active: true, retryPolicy: 'custom', retrySchedule: schedule }),
    ).toBeUndefined();
  });
});

describe('the config file', () => {
  const yaml = (schedule: string) => `
subscriptions:
  - id: erp
    name: ERP
    contactEmail: ops@example.com
    url: https://erp.example.com/hooks
    triggers: ["*"]
    retryPolicy: custom
    retrySchedule: ${schedule}
`;
  test('takes a custom schedule, and names the key of a bad one', () => {
    const config = parseConfig(
      yaml(
        '{ initialIntervalMs: 30000, backoffCoefficient: 2, maximumIntervalMs: 300000, maximumDurationMs: 3600000 }',
      ),
      {},
    );
    expect(config.subscriptions[0]!.retrySchedule).toEqual(schedule);
    expect(() =>
      parseConfig(
        yaml(
          '{ initialIntervalMs: 30000, backoffCoefficient: 2, maximumIntervalMs: 300000, maximumDurationMs: 864000000 }',
        ),
        {},
      ),
    ).toThrow(
      /subscriptions\[0\]\.retrySchedule\.maximumDurationMs: how long attempts go on must be at most 604800000 ms \(7 days\)/,
    );
  });
});
