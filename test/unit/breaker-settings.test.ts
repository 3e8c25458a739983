import { breakerValues, parseCreate, parseUpdate, valuesOf } from '../../src/console/form';
import { storedSubscriptionProblem } from '../../src/shared/subscription-limits';
import { publicView } from '../../src/subscriptions/seal';

/** The breaker's settings: the form's fields (minutes), the defaults left unstored, the stored-state check. */

const form = {
  id: 'b',
  name: 'b',
  contactEmail: 'b@example.com',
  url: 'http://127.0.0.1:1/',
  triggers: 'shop.*',
  retryPolicy: 'none',
  signature: 'ms-signature',
  'auth.type': 'none',
};

test('the defaults are not stored; other settings are, in ms; the form shows them back in minutes', () => {
  const defaults = parseCreate({ ...form, ...breakerValues(undefined) });
  expect(defaults.ok && defaults.input.breaker).toBeUndefined();
  // A form without the breaker's fields (a post from an older page) leaves it alone too.
  expect(parseCreate(form).ok).toBe(true);

  const own = parseCreate({ ...form, 'breaker.consecutiveFailures': '5', 'breaker.failingFor': '2.5' });
  expect(own.ok && own.input.breaker).toEqual({ enabled: false, consecutiveFailures: 5, failingForMs: 150_000 });
  if (!own.ok) return;
  const stored = publicView({ ...own.input, timeoutMs: 30_000 } as never);
  expect(valuesOf(stored)).toMatchObject({
    'breaker.enabled': '',
    'breaker.consecutiveFailures': '5',
    'breaker.failingFor': '2.5',
  });
  // Saved again unchanged: no breaker in the update.
  const again = parseUpdate(valuesOf(stored), stored);
  expect(again.ok && again.input.breaker).toBeUndefined();
});

test('a threshold out of bounds is said under its field', () => {
  const zero = parseCreate({ ...form, ...breakerValues(undefined), 'breaker.consecutiveFailures': '0' });
  expect(zero.ok ? null : zero.errors['breaker.consecutiveFailures']).toBe('must be at least 1');
  const words = parseCreate({ ...form, ...breakerValues(undefined), 'breaker.failingFor': 'soon' });
  expect(words.ok ? null : words.errors['breaker.failingFor']).toBe('must be a number');
  const short = parseCreate({ ...form, ...breakerValues(undefined), 'breaker.failingFor': '0.5' });
  expect(short.ok ? null : short.errors['breaker.failingFor']).toBe('at least 1 minute (60000 ms)');
});

test('a stored breaker outside its bounds is refused by the workflow too', () => {
  const base = { id: 'b', active: true, name: 'b', url: 'http://x/', triggers: ['shop.*'] };
  expect(storedSubscriptionProblem(base)).toBeUndefined();
  expect(
    storedSubscriptionProblem({ ...base, breaker: { enabled: true, consecutiveFailures: 3, failingForMs: 60_000 } }),
  ).toBeUndefined();
  expect(
    storedSubscriptionProblem({ ...base, breaker: { enabled: 'yes', consecutiveFailures: 3, failingForMs: 60_000 } }),
  ).toMatch(/^breaker:/);
  expect(
    storedSubscriptionProblem({ ...base, breaker: { enabled: true, consecutiveFailures: 0, failingForMs: 60_000 } }),
  ).toMatch(/^breaker:/);
});
