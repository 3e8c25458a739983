import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { scheduleBackoffMs, type DeliveryInput } from '../shared/delivery';
import { FailureType } from '../shared/failure-types';
import type { AttemptClass } from './metrics';

/** What one `deliver` execution means per subscription: an attempt (its class) and whether the delivery ended. */
export interface DeliverOutcome {
  /** Undefined when no request went out (skipped, cancelled, or a failure before sending). */
  attemptClass?: AttemptClass;
  /** Set when this execution ended the delivery. */
  ended?: 'delivered' | 'failed' | 'skipped';
}

const classOfStatus = (status: number): AttemptClass | undefined =>
  status >= 200 && status < 600 ? (`${Math.floor(status / 100)}xx` as AttemptClass) : undefined;

/** `deliver` resolves `{ status: 'delivered' | 'skipped', httpStatus? }`. */
export function successOutcome(result: unknown): DeliverOutcome {
  const { status, httpStatus } = (result ?? {}) as { status?: string; httpStatus?: number };
  if (status === 'skipped') return { ended: 'skipped' };
  return { attemptClass: httpStatus !== undefined ? (classOfStatus(httpStatus) ?? '2xx') : '2xx', ended: 'delivered' };
}

/** The activity's schedule as the worker sees it (Context.current().info). */
export interface AttemptTiming {
  attempt: number;
  /** When the first attempt was scheduled, and the window all attempts must start in (0 = none). */
  scheduledTimestampMs: number;
  scheduleToCloseTimeoutMs: number;
  now: number;
}

const durationMs = (d: unknown): number | undefined =>
  typeof d === 'number' ? d : typeof d === 'string' && /^\d+$/.test(d) ? Number(d) : undefined;

/**
 * The delay Temporal waits before the next attempt: the failure's own (Retry-After) or the schedule's
 * exponential backoff; a retry that would start after the window is not made, and the delivery fails.
 */
function lastRetryAllowed(err: ApplicationFailure, input: DeliveryInput | undefined, timing: AttemptTiming): boolean {
  const schedule = input?.schedule;
  if (!schedule) return false;
  if (schedule.policy === 'none') return true;
  if (!timing.scheduleToCloseTimeoutMs) return false;
  const delay = durationMs(err.nextRetryDelay) ?? scheduleBackoffMs(schedule, timing.attempt);
  return timing.now + delay > timing.scheduledTimestampMs + timing.scheduleToCloseTimeoutMs;
}

/**
 * A failed attempt: its class from the failure type the activity raised (`Http503` -> 5xx,
 * `ConnectionError` / `SsrfRefused` -> network); the delivery ended when the failure is permanent, or
 * when no retry follows (policy `none`, or the retry window is used up: estimated like Temporal does).
 */
export function failureOutcome(err: unknown, input: DeliveryInput | undefined, timing: AttemptTiming): DeliverOutcome {
  if (err instanceof CancelledFailure) return { ended: 'skipped' };
  if (!(err instanceof ApplicationFailure)) return {};
  const type = err.type ?? '';
  const http = /^Http(\d{3})$/.exec(type);
  const attemptClass: AttemptClass | undefined = http
    ? classOfStatus(Number(http[1]))
    : type === FailureType.ConnectionError || type === FailureType.SsrfRefused
      ? 'network'
      : undefined;
  const ended = err.nonRetryable || lastRetryAllowed(err, input, timing) ? ('failed' as const) : undefined;
  return { attemptClass, ended };
}
