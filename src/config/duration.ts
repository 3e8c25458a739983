import { z } from 'zod';

/**
 * ISO-8601 durations as the seed systems write them (`PT30S`, `PT1M30S`, `P1D`, `PT0.5S`).
 * Years and months are refused: their length is not fixed.
 */
const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseIsoDurationMs(text: string): number | undefined {
  const match = ISO_DURATION.exec(text.trim().toUpperCase());
  if (!match || text.trim().toUpperCase() === 'P' || /T$/.test(text.trim().toUpperCase())) return undefined;
  const [, w, d, h, m, s] = match.map((v) => (v === undefined ? 0 : Number(v)));
  return Math.round(((((w ?? 0) * 7 + (d ?? 0)) * 24 + (h ?? 0)) * 60 * 60 + (m ?? 0) * 60 + (s ?? 0)) * 1000);
}

/** An ISO-8601 duration string, converted to milliseconds. */
export const isoDurationMs = z.string().transform((text, ctx) => {
  const ms = parseIsoDurationMs(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a positive ISO-8601 duration such as PT30S` });
    return z.NEVER;
  }
  return ms;
});

/** The same, with a default when absent. */
export const isoDuration = (fallback: string) => isoDurationMs.prefault(fallback);
