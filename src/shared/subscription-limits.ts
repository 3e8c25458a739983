/**
 * Bounds of a subscription's fields. A subscription lives in its workflow: the fields travel as workflow
 * input, update arguments and query results (Temporal refuses payloads over 2 MB and warns over 512 KB),
 * and the triggers are the `HookflowTriggers` search attribute, whose value Temporal limits to 2,048
 * bytes (`limit.searchAttributesSizeOfValue`): a workflow that upserts a larger value is terminated by
 * the server. The zod schema (API, config file, OpenAPI) and the workflow's update validator both use
 * these. Pure (no Node modules): the subscription workflow imports it.
 */
import { keywordValue } from './bounded';
import type { Subscription } from './subscription';
import { SA } from './search-attributes';

export const SUBSCRIPTION_LIMITS = {
  /** One trigger, in characters (ASCII only, by its pattern). */
  triggerChars: 100,
  /** All triggers together, as the search attribute stores them (a JSON list), in bytes. */
  triggersBytes: 2000,
  nameChars: 200,
  urlChars: 2048,
  secretChars: 1024,
  usernameChars: 256,
  tokenChars: 4096,
  pemChars: 64 * 1024,
  filterEntries: 200,
  warehouseChars: 255,
  /** The breaker's thresholds: failed attempts, and how long failing (1 min to 7 days). */
  breakerFailures: { min: 1, max: 10_000 },
  breakerFailingForMs: { min: 60_000, max: 7 * 24 * 3600_000 },
  /** The stored subscription (secrets sealed), as JSON: far below Temporal's 512 KB warning. */
  storedBytes: 400 * 1024,
  /** Throttle bounds: deliveries per second, requests at once. */
  rateLimitMax: 1000,
  maxInFlightMax: 1000,
  holdReasonChars: 500,
} as const;

/** What is wrong with the gate fields (hold, rateLimit, maxInFlight) of a stored subscription, or undefined. */
export function gateFieldsProblem({ hold, rateLimit, maxInFlight }: Record<string, unknown>): string | undefined {
  if (
    rateLimit !== undefined &&
    (typeof rateLimit !== 'number' || !(rateLimit > 0 && rateLimit <= SUBSCRIPTION_LIMITS.rateLimitMax))
  )
    return `rateLimit: more than 0, at most ${SUBSCRIPTION_LIMITS.rateLimitMax} per second`;
  if (
    maxInFlight !== undefined &&
    (!Number.isInteger(maxInFlight) ||
      (maxInFlight as number) < 1 ||
      (maxInFlight as number) > SUBSCRIPTION_LIMITS.maxInFlightMax)
  )
    return `maxInFlight: a whole number from 1 to ${SUBSCRIPTION_LIMITS.maxInFlightMax}`;
  if (hold !== undefined) {
    const h = hold as Record<string, unknown>;
    if (
      typeof h !== 'object' ||
      h === null ||
      typeof h.since !== 'string' ||
      (h.by !== 'operator' && h.by !== 'breaker')
    )
      return 'hold: { since, by: operator | breaker, reason?, budgetRuns? }';
    if (
      h.reason !== undefined &&
      (typeof h.reason !== 'string' || h.reason.length > SUBSCRIPTION_LIMITS.holdReasonChars)
    )
      return `hold.reason: at most ${SUBSCRIPTION_LIMITS.holdReasonChars} characters`;
    if (h.budgetRuns !== undefined && typeof h.budgetRuns !== 'boolean') return 'hold.budgetRuns: true or false';
  }
  return undefined;
}

/** Size of the triggers as the HookflowTriggers search attribute (a JSON list). */
export const triggersBytes = (triggers: readonly string[]) => new TextEncoder().encode(JSON.stringify(triggers)).length;

export const TRIGGERS_TOO_LARGE = `together at most ${SUBSCRIPTION_LIMITS.triggersBytes} characters (the HookflowTriggers search attribute); use wildcards such as extend-commerce.*`;

/**
 * The triggers as they may be published in the search attribute: every entry within the per-entry
 * bound, as many as fit the value limit. Used by the workflow so that publishing can never fail it,
 * whatever state it carries (validation keeps new state within bounds; this covers the rest).
 */
export function searchableTriggers(triggers: unknown): string[] {
  if (!Array.isArray(triggers)) return [];
  const out: string[] = [];
  for (const trigger of triggers) {
    if (
      typeof trigger !== 'string' ||
      trigger.length === 0 ||
      trigger.length > SUBSCRIPTION_LIMITS.triggerChars ||
      /[^\x20-\x7e]/.test(trigger)
    )
      continue;
    if (triggersBytes([...out, trigger]) > SUBSCRIPTION_LIMITS.triggersBytes) break;
    out.push(trigger);
  }
  return out;
}

/** What is wrong with a stored subscription (the result of applying an update), or undefined. */
export function storedSubscriptionProblem(subscription: Record<string, unknown>): string | undefined {
  const { id, active, triggers, name, url, ordering } = subscription;
  if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id))
    return 'id: use lower-case letters, digits, - and _ (max 63)';
  if (typeof active !== 'boolean') return 'active: must be true or false';
  if (typeof name !== 'string' || name.length > SUBSCRIPTION_LIMITS.nameChars)
    return `name: at most ${SUBSCRIPTION_LIMITS.nameChars} characters`;
  if (typeof url !== 'string' || url.length > SUBSCRIPTION_LIMITS.urlChars)
    return `url: at most ${SUBSCRIPTION_LIMITS.urlChars} characters`;
  if (!Array.isArray(triggers) || triggers.length === 0) return 'triggers: at least one';
  if (ordering !== undefined && ordering !== 'none' && ordering !== 'entity') return 'ordering: none or entity';
  const schedule = subscription.retrySchedule as Record<string, unknown> | undefined;
  if (
    subscription.retryPolicy === 'custom' &&
    !(
      schedule &&
      ['initialIntervalMs', 'backoffCoefficient', 'maximumIntervalMs', 'maximumDurationMs'].every(
        (k) => typeof schedule[k] === 'number',
      )
    )
  )
    return 'retrySchedule: retryPolicy custom needs a retrySchedule (initialIntervalMs, backoffCoefficient, maximumIntervalMs, maximumDurationMs)';
  const gateProblem = gateFieldsProblem(subscription);
  if (gateProblem) return gateProblem;
  const breaker = breakerProblem(subscription.breaker);
  if (breaker) return breaker;
  if (searchableTriggers(triggers).length !== triggers.length) {
    return `triggers: each at most ${SUBSCRIPTION_LIMITS.triggerChars} visible ASCII characters, ${TRIGGERS_TOO_LARGE}`;
  }
  const bytes = new TextEncoder().encode(JSON.stringify(subscription)).length;
  if (bytes > SUBSCRIPTION_LIMITS.storedBytes)
    return `the subscription is ${bytes} bytes stored, over the limit of ${SUBSCRIPTION_LIMITS.storedBytes}`;
  return undefined;
}

const within = (value: unknown, { min, max }: { min: number; max: number }) =>
  Number.isInteger(value) && (value as number) >= min && (value as number) <= max;

/** What is wrong with a stored `breaker` (absent is fine: the defaults apply). */
function breakerProblem(breaker: unknown): string | undefined {
  if (breaker === undefined) return undefined;
  const { enabled, consecutiveFailures, failingForMs } = (breaker ?? {}) as Record<string, unknown>;
  if (
    typeof enabled !== 'boolean' ||
    !within(consecutiveFailures, SUBSCRIPTION_LIMITS.breakerFailures) ||
    !within(failingForMs, SUBSCRIPTION_LIMITS.breakerFailingForMs)
  )
    return `breaker: enabled (true or false), consecutiveFailures (${SUBSCRIPTION_LIMITS.breakerFailures.min} to ${SUBSCRIPTION_LIMITS.breakerFailures.max}) and failingForMs (1 minute to 7 days, in ms)`;
  return undefined;
}

/**
 * The search attributes of a subscription, fitted to Temporal's limits whatever the state: an upsert
 * the server refuses would terminate the workflow and lose the subscription.
 */
export function subscriptionSearchAttributes(subscription: Pick<Subscription, 'id' | 'active' | 'triggers'>) {
  return [
    { key: SA.subscription, value: keywordValue(String(subscription.id)) },
    { key: SA.status, value: subscription.active ? 'active' : 'inactive' },
    { key: SA.triggers, value: searchableTriggers(subscription.triggers) },
  ];
}
