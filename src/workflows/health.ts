import {
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  BREAKER_DEFAULTS,
  HEALTH_MEMO,
  failedAttemptSignal,
  isOperationalEventType,
  type BreakerView,
  type FailedAttemptReport,
  type HealthCheck,
  type HealthMemo,
  type HealthTransition,
  type HealthWorkflowInput,
} from '../shared/health';

/** Failed deliveries announced per check; more are summed up in one event. */
const FAILED_PER_CHECK = 20;
/** Each check looks back this much before the previous one: visibility lags a little behind a close. */
const VISIBILITY_OVERLAP_MS = 60_000;
const HISTORY_LIMIT = 2_000;
/** Histories recorded before the breaker replay without it. */
const BREAKER_PATCH = 'breaker';

const transitionOf = (memo: HealthMemo): HealthTransition => ({
  subscriptionId: memo.subscriptionId,
  state: memo.state,
  since: memo.since,
  consecutiveFailures: memo.consecutiveFailures,
  ...(memo.lastFailure
    ? {
        lastFailure: {
          error: memo.lastFailure.error,
          ...(memo.lastFailure.httpStatus !== undefined ? { httpStatus: memo.lastFailure.httpStatus } : {}),
        },
      }
    : {}),
  publish: memo.announced,
  email: true,
});

/**
 * `health/<subscriptionId>`: exists only while something is wrong. Started (signal-with-start) by the
 * first failed attempt, it counts failed attempts, checks visibility every `checkIntervalMs` for a
 * delivery delivered after the last failure, and alerts on each state change (failing, recovered).
 * After a recovery it stays `graceMs`, then ends. Its state is its memo: readers describe, never query.
 */
export async function healthWorkflow(input: HealthWorkflowInput): Promise<void> {
  const { subscriptionId, checkIntervalMs, graceMs } = input;
  const { checkHealth } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
  });
  const { readBreaker, tripBreaker } = proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
  });
  const { publishHealthEvent, emailHealthAlert, publishFailedDeliveries } = proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10 },
  });

  let memo: HealthMemo | undefined = input.memo;
  const transitions: HealthTransition[] = [];
  const breakerOn = patched(BREAKER_PATCH);
  /** The breaker's view of the subscription: read when this run first needs it, refreshed by every check. */
  let breaker: BreakerView | undefined;
  const write = () => {
    if (memo) upsertMemo({ [HEALTH_MEMO]: memo });
  };

  setHandler(failedAttemptSignal, (report: FailedAttemptReport) => {
    // A report from before the recovery already seen (a late signal) starts no new outage.
    if (memo?.lastSuccessAt && report.at <= memo.lastSuccessAt) return;
    const failure = {
      at: report.at,
      error: report.error,
      ...(report.httpStatus !== undefined ? { httpStatus: report.httpStatus } : {}),
    };
    if (!memo || memo.state !== 'failing') {
      memo = {
        subscriptionId,
        state: 'failing',
        since: report.at,
        consecutiveFailures: report.failures ?? 1,
        lastFailure: failure,
        inBackoff: memo?.inBackoff ?? 0,
        ...(memo?.lastSuccessAt ? { lastSuccessAt: memo.lastSuccessAt } : {}),
        ...(memo?.checkedAt ? { checkedAt: memo.checkedAt } : {}),
        ...(memo?.tripped ? { tripped: memo.tripped } : {}),
        // Failures of deliveries that carry operational events alert by e-mail only (no alerts about alerts).
        announced: !isOperationalEventType(report.eventType),
      };
      transitions.push(transitionOf(memo));
    } else {
      const later = !memo.lastFailure || report.at >= memo.lastFailure.at;
      memo = {
        ...memo,
        consecutiveFailures: memo.consecutiveFailures + (report.failures ?? 1),
        ...(later ? { lastFailure: failure } : {}),
      };
      // An outage first seen on operational deliveries that now fails real traffic too: its event, once.
      if (!memo.announced && !isOperationalEventType(report.eventType)) {
        memo = { ...memo, announced: true };
        transitions.push({ ...transitionOf(memo), email: false });
      }
    }
    write();
  });

  // The breaker (docs/operations.md "Breaker"): past its threshold a failing subscription is held; the
  // gate probes it and releases it. Counted since the outage began, or since the last release in it.
  let tripRetryAt = 0;
  const tripReason = (current: HealthMemo): string | undefined => {
    const { enabled, consecutiveFailures, failingForMs } = breaker?.settings ?? BREAKER_DEFAULTS;
    if (!breakerOn || !enabled || current.state !== 'failing' || current.tripped) return undefined;
    if (breaker?.heldBy || breaker?.exists === false || Date.now() < tripRetryAt) return undefined;
    const from = current.breakerFrom ?? { failures: 0, at: current.since };
    const failures = current.consecutiveFailures - from.failures;
    if (failures >= consecutiveFailures) return `${failures} consecutive failed attempts`;
    const failingFor = Date.now() - Date.parse(from.at);
    if (failingFor >= failingForMs)
      return `failing for ${failingFor >= 120_000 ? `${Math.floor(failingFor / 60_000)} min` : `${Math.floor(failingFor / 1000)} s`}`;
    return undefined;
  };
  /** Time left until the breaker trips by duration, when it may. */
  const untilTrip = (current: HealthMemo): number | undefined => {
    const { enabled, failingForMs } = breaker?.settings ?? BREAKER_DEFAULTS;
    if (!breakerOn || !enabled || current.state !== 'failing' || current.tripped || breaker?.heldBy) return undefined;
    return Date.parse(current.breakerFrom?.at ?? current.since) + failingForMs - Date.now();
  };
  const trip = async (reason: string) => {
    const at = new Date().toISOString();
    let result;
    try {
      result = await tripBreaker({ subscriptionId, reason });
    } catch (err) {
      log.warn('breaker could not hold the subscription', { subscriptionId, error: String(err) });
      tripRetryAt = Date.now() + checkIntervalMs;
      return;
    }
    const view = breaker ?? { exists: true, settings: BREAKER_DEFAULTS };
    if (!memo) return;
    if (result.held || result.heldBy === 'breaker') {
      breaker = { ...view, heldBy: 'breaker' };
      memo = { ...memo, tripped: { at, reason } };
      transitions.push({ ...transitionOf(memo), state: 'held', since: at, reason, by: 'breaker' });
    } else breaker = { ...view, ...(result.heldBy ? { heldBy: result.heldBy } : {}) };
    write();
  };
  /** What a check saw of the hold: the breaker's hold ended (a probe succeeded, or an operator released it). */
  const observeBreaker = (view: BreakerView) => {
    const wasHeld = breaker?.heldBy !== undefined;
    breaker = view;
    if (!memo) return;
    const at = new Date().toISOString();
    if (memo.tripped && view.heldBy !== 'breaker') {
      const { tripped, ...rest } = memo;
      memo = { ...rest, breakerFrom: { failures: memo.consecutiveFailures, at } };
      transitions.push({ ...transitionOf(memo), state: 'released', since: at, reason: tripped.reason, by: 'breaker' });
    } else if (wasHeld && !view.heldBy) memo = { ...memo, breakerFrom: { failures: memo.consecutiveFailures, at } };
  };

  // One alert per state change; an alert that cannot be sent is logged, the health goes on.
  const alert = async (transition: HealthTransition) => {
    const sent = await Promise.allSettled([
      transition.publish ? publishHealthEvent(transition) : Promise.resolve(),
      transition.email ? emailHealthAlert(transition) : Promise.resolve(),
    ]);
    for (const outcome of sent)
      if (outcome.status === 'rejected')
        log.warn('health alert not sent', { subscriptionId, state: transition.state, error: String(outcome.reason) });
  };

  const check = async (current: HealthMemo) => {
    // With the breaker: any delivery since it began counting (the latest is returned), not only after the last failure.
    const deliveredAfter = breakerOn
      ? (current.breakerFrom?.at ?? current.since)
      : (current.lastFailure?.at ?? current.since);
    const failedAfter = new Date(Date.parse(current.checkedAt ?? current.since) - VISIBILITY_OVERLAP_MS).toISOString();
    const checkedAt = new Date().toISOString();
    let result: HealthCheck;
    try {
      result = await checkHealth({ subscriptionId, deliveredAfter, failedAfter, cap: FAILED_PER_CHECK });
    } catch (err) {
      // Visibility unavailable for a while: the state stays as it is, the next check tries again.
      log.warn('health check failed', { subscriptionId, error: String(err) });
      return true;
    }
    if (result.exists === false) return false; // deleted: nothing left to watch
    // The memo may have changed while the activity ran (signals): apply the result to the current one.
    const latest = memo ?? current;
    memo = { ...latest, inBackoff: result.inBackoff, checkedAt };
    if (breakerOn && result.breaker) observeBreaker(result.breaker);
    const recovered =
      memo.state === 'failing' &&
      result.deliveredAt !== undefined &&
      (!memo.lastFailure || result.deliveredAt > memo.lastFailure.at);
    if (recovered) {
      memo = {
        ...memo,
        state: 'healthy',
        since: result.deliveredAt!,
        consecutiveFailures: 0,
        lastSuccessAt: result.deliveredAt!,
      };
      transitions.push(transitionOf(memo));
    }
    // Still failing, but something was delivered since the breaker began counting: the failures were not
    // consecutive (a receiver failing now and then). The breaker counts again from that delivery.
    const counting = memo.breakerFrom?.at ?? memo.since;
    const deliveredAt = result.deliveredAt;
    if (breakerOn && !recovered && memo.state === 'failing' && !memo.tripped && deliveredAt && deliveredAt > counting)
      memo = { ...memo, breakerFrom: { failures: memo.consecutiveFailures, at: deliveredAt } };
    // Disabled during an outage (410 Gone, or an operator): said once, until it is enabled again.
    if (result.disabled && !memo.disabledSeen) {
      memo = { ...memo, disabledSeen: true };
      transitions.push({
        ...transitionOf(memo),
        state: 'disabled',
        ...(result.disabled.reason ? { reason: result.disabled.reason } : {}),
      });
    } else if (!result.disabled && memo.disabledSeen) memo = { ...memo, disabledSeen: false };
    write();
    if (result.failed.length > 0)
      await publishFailedDeliveries({ subscriptionId, failed: result.failed, moreFailed: result.moreFailed }).catch(
        (err: unknown) => log.warn('failed deliveries not announced', { subscriptionId, error: String(err) }),
      );
    return true;
  };

  // The first report comes with the start (signal-with-start): its handler has run before this line.
  write();
  for (;;) {
    while (transitions.length > 0) await alert(transitions.shift()!);
    if (!memo) return;
    if (breakerOn && memo.state === 'failing' && !breaker) {
      breaker = await readBreaker(subscriptionId).catch((err: unknown) => {
        log.warn('breaker settings not read', { subscriptionId, error: String(err) });
        return undefined;
      });
      if (breaker?.exists === false) return;
    }
    if (tripReason(memo)) {
      // A check first: a delivery among the failures means they were not consecutive (see check).
      if (!(await check(memo))) return;
      const reason = tripReason(memo);
      if (reason) await trip(reason);
      continue;
    }
    let wait = checkIntervalMs;
    if (memo.state === 'healthy') {
      const left = Date.parse(memo.since) + graceMs - Date.now();
      // Not while the breaker holds it: its release is still to be seen.
      if (left <= 0 && !memo.tripped) return;
      if (left > 0) wait = Math.min(wait, left);
    }
    const tripIn = untilTrip(memo);
    if (tripIn !== undefined) wait = Math.max(1, Math.min(wait, tripIn));
    if (await condition(() => transitions.length > 0 || (breakerOn && tripReason(memo!) !== undefined), wait)) continue;
    if (breakerOn && tripReason(memo)) continue;
    // A deleted subscription has nothing left to recover.
    if (!(await check(memo))) return;
    if (
      transitions.length === 0 &&
      (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT)
    )
      await continueAsNew<typeof healthWorkflow>({ ...input, memo });
  }
}
