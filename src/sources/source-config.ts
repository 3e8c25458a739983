import { z } from 'zod';
import { isoDuration } from '../config/duration';
import { templateBase } from './follow-up-url';

/** A credential in the config file. */
export const secret = z.string().min(1, 'must not be empty');

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
