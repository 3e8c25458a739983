import { z } from 'zod';

/**
 * ISO-8601 durations as the seed systems write them (`PT30S`, `PT1M30S`, `P1D`, `PT0.5S`).
 * Years and months are refused: their length is not fixed.
 */
const ISO_DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseIsoDurationMs(text: string): number | undefined {
  const match = ISO_DURATION.exec(text.trim().toUpperCase());
  if (!match || text.trim().toUpperCase() === 'P' || /T$/.test(text.trim().toUpperCase())) return undefined;
  const [, w, d, h, m, s] = match.map((v) => (v === undefined ? 0 : Number(v)));
  return Math.round(((((w ?? 0) * 7 + (d ?? 0)) * 24 + (h ?? 0)) * 60 * 60 + (m ?? 0) * 60 + (s ?? 0)) * 1000);
}

export interface DurationBounds {
  /** ISO-8601, inclusive. */
  min: string;
  /** ISO-8601, inclusive. */
  max: string;
}

/**
 * Every duration: at least 1 ms, at most 24 days. Node's timers (setTimeout, AbortSignal.timeout) take
 * at most 2^31-1 ms (24.8 days); beyond that a timer fires after 1 ms or throws a RangeError.
 */
export const DEFAULT_DURATION_BOUNDS: DurationBounds = { min: 'PT0.001S', max: 'P24D' };

/**
 * The range of each configured duration: what makes sense for it, far inside the timer limit above.
 * Out of range, the config error names the key (`server.ackTimeout: "P1W" is out of bounds: ...`).
 */
export const DURATION_BOUNDS = {
  /** How long a webhook waits for Temporal to take it before 503: beyond a minute senders have given up. */
  ackTimeout: { min: 'PT0.1S', max: 'PT1M' },
  requestTimeout: { min: 'PT1S', max: 'PT10M' },
  headersTimeout: { min: 'PT1S', max: 'PT10M' },
  rateWindow: { min: 'PT1S', max: 'P1D' },
  retryInterval: { min: 'PT0.1S', max: 'P1D' },
  retryWindow: { min: 'PT1S', max: 'P7D' },
  /** Every ordered event waits this long: minutes would hold every lane. */
  orderingSettle: { min: 'PT0.01S', max: 'PT5M' },
  /** Shorter, and lanes end and restart between events of a burst. */
  orderingIdle: { min: 'PT0.1S', max: 'P1D' },
  orderingMaxHold: { min: 'PT1S', max: 'P1D' },
  /** Shorter is no deduplication at all; longer keeps every key in memory for days. */
  dedupWindow: { min: 'PT1S', max: 'P7D' },
} satisfies Record<string, DurationBounds>;

/** An ISO-8601 duration string within bounds, converted to milliseconds. */
export function boundedDurationMs(bounds: DurationBounds = DEFAULT_DURATION_BOUNDS) {
  const min = parseIsoDurationMs(bounds.min)!;
  const max = parseIsoDurationMs(bounds.max)!;
  return z
    .string()
    .max(64, 'is not an ISO-8601 duration such as PT30S')
    .transform((text, ctx) => {
      const ms = parseIsoDurationMs(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a positive ISO-8601 duration such as PT30S` });
        return z.NEVER;
      }
      if (ms < min || ms > max) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is out of bounds: use ${bounds.min} to ${bounds.max}` });
        return z.NEVER;
      }
      return ms;
    })
    .describe(`ISO-8601 duration, ${bounds.min} to ${bounds.max}`);
}

/** The same, with a default when absent. */
export const isoDuration = (fallback: string, bounds: DurationBounds = DEFAULT_DURATION_BOUNDS) =>
  boundedDurationMs(bounds).prefault(fallback);
