import type { Client } from '@temporalio/client';
import { breakerSettingsOf, type HealthMemo } from '../shared/health';
import type { BreakerSettings, SubscriptionHold } from '../shared/subscription';
import { readHealthMemo } from '../temporal/health';
import { gateState } from '../temporal/hold';

/** A subscription's hold and breaker as the console shows them (the list and the subscription's page). */

export type HealthRead = HealthMemo | null | 'unknown' | undefined;

/** What the gate tells (`gateState` of src/temporal/hold.ts), as far as the console shows it. */
interface GateFigures {
  held: boolean;
  since?: string;
  by?: SubscriptionHold['by'];
  waiting: number;
  inBackoff?: number;
  nextProbeAt?: string;
}

export const tripped = (memo: HealthRead) => typeof memo === 'object' && memo !== null && memo.tripped !== undefined;

/** `HH:MM UTC` of an ISO-8601 time, for a table cell (the full time is its `datetime`). */
export const shortTime = (iso: string) => `${iso.slice(11, 16)} UTC`;

/** Held since T by operator|breaker, N waiting (M in backoff); null when not held. */
export function heldView(
  hold: { since: string; by: string; reason?: string; budgetRuns?: boolean } | undefined,
  gate?: GateFigures,
) {
  const since = gate?.since ?? hold?.since;
  const by = gate?.by ?? hold?.by;
  if (!(gate?.held ?? hold) || !since || !by) return null;
  return {
    since,
    sinceShort: shortTime(since),
    by,
    waiting: gate?.waiting,
    inBackoff: gate?.inBackoff,
    reason: hold?.reason,
    budgetRuns: hold?.budgetRuns === true,
  };
}

/** The breaker: off, closed, or tripped at T (with the gate's next probe). */
export function breakerView(breaker: BreakerSettings | undefined, memo: HealthRead, gate?: GateFigures) {
  const settings = breakerSettingsOf(breaker);
  if (!settings.enabled) return { state: 'off' as const };
  const trip = typeof memo === 'object' && memo !== null ? memo.tripped : undefined;
  if (!trip)
    return {
      state: 'closed' as const,
      failures: settings.consecutiveFailures,
      minutes: settings.failingForMs / 60_000,
    };
  return {
    state: 'tripped' as const,
    at: trip.at,
    atShort: shortTime(trip.at),
    reason: trip.reason,
    ...(gate?.nextProbeAt ? { nextProbeAt: gate.nextProbeAt, nextProbeShort: shortTime(gate.nextProbeAt) } : {}),
  };
}

/** One subscription's hold and breaker, for its own page (the list reads them for all at once). */
export async function holdStateOf(
  client: Client,
  subscription: { id: string; hold?: SubscriptionHold; breaker?: BreakerSettings },
) {
  const memo = await readHealthMemo(client, subscription.id).catch(() => 'unknown' as const);
  const gate =
    subscription.hold || tripped(memo) ? await gateState(client, subscription.id).catch(() => undefined) : undefined;
  return { held: heldView(subscription.hold, gate), breakerState: breakerView(subscription.breaker, memo, gate) };
}
