import { z } from 'zod';
import { isoDuration } from '../config/duration';
import { templateBase } from './follow-up-url';

/** A credential in the config file. */
export const secret = z.string().min(1, 'must not be empty');

/** One credential of a rotation list, as verification uses it. */
export interface SecretEntry {
  value: string;
  /** What the `secret` label of hookflow_webhooks_verified_total says when it matched: never the value. */
  label: string;
  /** Not accepted after this instant (epoch ms). */
  notAfterMs?: number;
}

/** More would only slow every verification down: a rotation needs two, three while one is being replaced. */
export const MAX_SECRETS = 5;
const DEFAULT_LABELS = ['current', 'previous'];

const secretEntry = z.union([
  secret,
  z.strictObject({
    value: secret,
    /** Defaults to `current` (first), `previous` (second), `previous-<n>` after. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'use lower-case letters, digits, - and _ (max 32)')
      .optional(),
    /** From this instant on the entry is refused (ISO-8601 with a zone, e.g. 2026-12-06T00:00:00Z). */
    notAfter: z.iso.datetime({ offset: true }).optional(),
  }),
]);

/**
 * A credential that can be rotated: one value as before, or a list (current first, then previous ones,
 * each optionally ending at `notAfter`). Verification accepts any entry not expired.
 */
export const secretList = z
  .union([secret, z.array(secretEntry).min(1).max(MAX_SECRETS)])
  .transform((given, ctx): SecretEntry[] => {
    const entries = (Array.isArray(given) ? given : [given]).map((entry, index): SecretEntry => {
      const label = DEFAULT_LABELS[index] ?? `previous-${index}`;
      if (typeof entry === 'string') return { value: entry, label };
      return {
        value: entry.value,
        label: entry.name ?? label,
        ...(entry.notAfter !== undefined ? { notAfterMs: Date.parse(entry.notAfter) } : {}),
      };
    });
    const labels = entries.map((entry) => entry.label);
    labels.forEach((label, index) => {
      if (labels.indexOf(label) !== index)
        ctx.addIssue({ code: 'custom', path: [index], message: `duplicate name "${label}"` });
    });
    return entries;
  });

/**
 * The label of the entry `check` accepts among those valid at `nowMs`, or undefined. Every valid entry
 * is checked (each check is constant-time), so the time taken does not say which one matched.
 */
export function matchSecret(
  entries: readonly SecretEntry[],
  nowMs: number,
  check: (value: string) => boolean,
): string | undefined {
  let matched: string | undefined;
  for (const entry of entries) {
    if (entry.notAfterMs !== undefined && nowMs >= entry.notAfterMs) continue;
    if (check(entry.value)) matched ??= entry.label;
  }
  return matched;
}

const sourceId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (max 63)')
  .refine((id) => id !== 'api', '"api" is reserved for events published through the admin API');

/** How hookflow authenticates to a source's API for the follow-up fetch. */
export const outboundAuth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('basic'), username: z.string(), password: secret }),
  z.strictObject({ type: z.literal('bearer'), token: secret }),
  z.strictObject({ type: z.literal('header'), name: z.string().min(1), value: secret }),
]);
export type OutboundAuth = z.output<typeof outboundAuth>;

const followUp = z.strictObject({
  /**
   * Event type -> URL template; `*` matches any type without its own entry. `{Name}` is replaced by the
   * event's value percent-encoded, `{+Name}` verbatim (for Ongoing's `path`), as in RFC 6570.
   */
  urls: z.record(
    z.string(),
    // Scheme, host, port and the path before the first expression are literal: every expansion keeps them.
    z.string().superRefine((template, ctx) => {
      const base = templateBase(template);
      if (typeof base === 'string') ctx.addIssue({ code: 'custom', message: base });
    }),
  ),
  auth: outboundAuth.default({ type: 'none' }),
  /** Within the follow-up activity's own 2-minute timeout. */
  timeout: isoDuration('PT10S', { min: 'PT1S', max: 'PT1M' }),
});

const filter = z
  .strictObject({
    warehouses: z.array(z.string().min(1)).min(1).optional(),
    goodsOwners: z.array(z.number().int()).min(1).optional(),
  })
  .default({});

/** The fields every source has in `sources[]`. */
const common = {
  id: sourceId,
  filter,
  followUp: followUp.optional(),
  /** Overrides server.rateLimit for this source's callback URL. */
  rateLimit: z.strictObject({ max: z.number().int().positive(), window: isoDuration('PT1M') }).optional(),
};

/** The `sources[]` entry of one kind: the common fields, `kind: <kind>` and the kind's own fields. */
export function sourceConfig<K extends string, F extends z.ZodRawShape>(kind: K, fields: F) {
  return z.strictObject({ ...common, kind: z.literal(kind), ...fields });
}
