import { z } from 'zod';
import { isoDuration, isoDurationMs } from '../config/duration';
import { RETRY_POLICIES, SIGNATURE_SCHEMES } from '../shared/outbound';

/** A trigger: `<namespace>.<Type>`, `<namespace>.*`, or `*` for every event. */
const trigger = z.string().regex(/^(\*|[a-z0-9][a-z0-9-]*\.(\*|[A-Za-z0-9][A-Za-z0-9._-]*))$/, 'use <namespace>.<EventType>, <namespace>.* or *');

const pem = (what: string) => z.string().regex(/-----BEGIN [A-Z ]+-----/, `must be a PEM ${what}`);

export const subscriptionIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (max 63)');

/** Auth towards the receiver, as Ongoing WMS offers it. Secrets arrive in plain text and are sealed at once. */
const auth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string().min(1) }),
  z.strictObject({ type: z.literal('x-auth-token'), token: z.string().min(1) }),
]);

const tls = z.strictObject({
  verify: z.boolean().default(true).describe('false = trust any certificate (explicit opt-in, logged as a warning)'),
  ca: pem('certificate').optional(),
  clientCert: pem('certificate').optional(),
  clientKey: pem('private key').optional(),
});

const filter = z.strictObject({
  warehouses: z.array(z.string().min(1)).min(1).optional(),
  goodsOwners: z.array(z.number().int()).min(1).optional(),
});

/** Fields of a subscription as the admin API and the config file take them. */
const fields = {
  name: z.string().min(1).max(200),
  contactEmail: z.email(),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secret: z.string().min(1).optional(),
  active: z.boolean(),
  triggers: z.array(trigger).min(1),
  filter,
  retryPolicy: z.enum(RETRY_POLICIES),
  auth,
  key: z.string().min(1).optional(),
  connectionTimeout: isoDuration('PT30S'),
  signature: z.enum(SIGNATURE_SCHEMES),
  tls,
};

function checkCombination(s: { signature?: string; secret?: string | null; tls?: { clientCert?: string; clientKey?: string } }, ctx: z.RefinementCtx) {
  if (s.signature === 'standard-webhooks' && s.secret === undefined) {
    ctx.addIssue({ code: 'custom', path: ['secret'], message: 'standard-webhooks signatures need a secret' });
  }
  if (s.tls && Boolean(s.tls.clientCert) !== Boolean(s.tls.clientKey)) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'clientCert and clientKey go together' });
  }
}

export const createSubscriptionSchema = z
  .strictObject({
    id: subscriptionIdSchema,
    ...fields,
    active: fields.active.default(true),
    filter: fields.filter.default({}),
    retryPolicy: fields.retryPolicy.default('one-day'),
    auth: fields.auth.default({ type: 'none' }),
    signature: fields.signature.default('ms-signature'),
    tls: fields.tls.prefault({}),
  })
  .superRefine(checkCombination);

/** PATCH: any subset; `secret`/`key` null removes them. */
export const updateSubscriptionSchema = z
  .strictObject({
    name: fields.name,
    contactEmail: fields.contactEmail,
    url: fields.url,
    secret: fields.secret.nullable(),
    active: fields.active,
    triggers: fields.triggers,
    filter: fields.filter,
    retryPolicy: fields.retryPolicy,
    auth: fields.auth,
    key: fields.key.nullable(),
    connectionTimeout: isoDurationMs,
    signature: fields.signature,
    tls: fields.tls,
  })
  .partial()
  .superRefine(checkCombination);

export type CreateSubscriptionInput = z.output<typeof createSubscriptionSchema>;
export type UpdateSubscriptionInput = z.output<typeof updateSubscriptionSchema>;
