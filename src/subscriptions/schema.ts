import { z } from 'zod';
import { boundedDurationMs, type DurationBounds } from '../config/duration';
import { ORDERINGS, RETRY_POLICIES, RETRY_SCHEDULE_LIMITS as R, SIGNATURE_SCHEMES } from '../shared/subscription';
import { SUBSCRIPTION_LIMITS as L, TRIGGERS_TOO_LARGE, triggersBytes } from '../shared/subscription-limits';
import { triggerProblem } from './triggers';
import { EXPRESSION_LIMITS as X, expressionProblem, transformProblem } from './expressions';

// Every field is bounded (src/shared/subscription-limits.ts): whatever passes here fits Temporal's
// search-attribute and payload limits, so no accepted create or update can fail the subscription's workflow.

/**
 * A trigger: `<namespace>.<Type>`, `<namespace>.*`, or `*` for every event; one for a source kind must
 * name one of its known types, and a prefix that looks like a source but is none is refused (./triggers.ts).
 */
export const triggerSchema = z
  .string()
  .max(L.triggerChars)
  .regex(
    /^(\*|[a-z0-9][a-z0-9-]*\.(\*|[A-Za-z0-9][A-Za-z0-9._-]*))$/,
    'use <namespace>.<EventType>, <namespace>.* or *',
  )
  .superRefine((trigger, ctx) => {
    const problem = triggerProblem(trigger);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const pem = (what: string) =>
  z
    .string()
    .max(L.pemChars)
    .regex(/-----BEGIN [A-Z ]+-----/, `must be a PEM ${what}`);

/** The receiver's URL: exactly as given (no surrounding blanks), bounded, http(s), without credentials. */
const receiverUrl = z
  .string()
  .max(L.urlChars)
  .regex(/^[^\s\u0000-\u001f\u007f]*$/, 'must not contain spaces, line breaks or control characters')
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
  .refine((url) => {
    const parsed = URL.parse(url);
    return !parsed || (parsed.username === '' && parsed.password === '');
  }, 'must not contain user:password@; use auth (basic) instead');

/** Bounds of the receiver timeout: the delivery activity's own timeout is this plus 10 s. */
export const CONNECTION_TIMEOUT_BOUNDS: DurationBounds = { min: 'PT1S', max: 'PT5M' };
const connectionTimeout = boundedDurationMs(CONNECTION_TIMEOUT_BOUNDS);

/** Coalescing window (docs/beyond-delivery.md "Coalescing stock storms"): the delivery of a batch waits this long after its first notification. */
export const COALESCE_WINDOW_BOUNDS: DurationBounds = { min: 'PT1S', max: 'PT1H' };
/** Age of a follow-up snapshot after which an attempt fetches it again (docs/beyond-delivery.md "Fresh data at send time"). */
export const REFRESH_FOLLOW_UP_BOUNDS: DurationBounds = { min: 'PT1M', max: 'P7D' };

const keyField = z
  .string()
  .max(100)
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
    'use a field name of the notification such as ProductNumber (dots for nested fields)',
  );
const coalesceType = z
  .string()
  .max(L.triggerChars)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'use an event type such as AvailableBalanceChanged or extend-commerce.AvailableBalanceChanged',
  );

const coalesce = z
  .strictObject({
    window: boundedDurationMs(COALESCE_WINDOW_BOUNDS),
    key: z
      .array(keyField)
      .min(1)
      .max(5)
      .refine((key) => new Set(key).size === key.length, 'each field once'),
    types: z.array(coalesceType).min(1).max(50),
  })
  .describe('one delivery per key and window, carrying the latest notification and how many it stands for');
const refreshFollowUpAfter = boundedDurationMs(REFRESH_FOLLOW_UP_BOUNDS).describe(
  `an attempt that starts this long after the follow-up was fetched fetches it again (ISO-8601, ${REFRESH_FOLLOW_UP_BOUNDS.min} to ${REFRESH_FOLLOW_UP_BOUNDS.max})`,
);

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
const words = (ms: number) =>
  ms % 86_400_000 === 0
    ? plural(ms / 86_400_000, 'day')
    : ms % 3_600_000 === 0
      ? plural(ms / 3_600_000, 'hour')
      : plural(ms / 1000, 'second');
const milliseconds = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} in milliseconds, a whole number` })
    .int(`${what} in milliseconds, a whole number`)
    .min(min, `${what} must be at least ${min} ms (${words(min)})`)
    .max(max, `${what} must be at most ${max} ms (${words(max)})`);

/** `retryPolicy: custom`: Temporal's activity retry options, in the subscription's own values. */
export const retryScheduleSchema = z
  .strictObject({
    initialIntervalMs: milliseconds('the wait before the second attempt', R.minIntervalMs, R.maxIntervalMs),
    backoffCoefficient: z
      .number({ error: 'backoffCoefficient is a number, such as 2' })
      .min(R.minCoefficient, `backoffCoefficient must be at least ${R.minCoefficient} (1 = the same wait every time)`)
      .max(R.maxCoefficient, `backoffCoefficient must be at most ${R.maxCoefficient}`),
    maximumIntervalMs: milliseconds('the longest wait between attempts', R.minIntervalMs, R.maxIntervalMs),
    maximumDurationMs: milliseconds('how long attempts go on', R.minDurationMs, R.maxDurationMs),
  })
  .superRefine((r, ctx) => {
    if (r.maximumIntervalMs < r.initialIntervalMs)
      ctx.addIssue({
        code: 'custom',
        path: ['maximumIntervalMs'],
        message: 'the longest wait (maximumIntervalMs) must be at least the first one (initialIntervalMs)',
      });
    if (r.maximumDurationMs < r.initialIntervalMs)
      ctx.addIssue({
        code: 'custom',
        path: ['maximumDurationMs'],
        message:
          'maximumDurationMs shorter than initialIntervalMs leaves no second attempt; use retryPolicy none for that',
      });
  })
  .describe(
    'with retryPolicy custom: first wait, growth factor, longest wait and how long to keep trying (at most 7 days), in milliseconds',
  );
/** A JSONata expression, compiled here so that a mistake is a 400 naming its position. */
const expression = z
  .string()
  .min(1)
  .max(X.expressionChars)
  .superRefine((source, ctx) => {
    const problem = expressionProblem(source);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const filterExpression = expression.describe(
  'JSONata over the event (type, entity, warehouse, goodsOwnerId, data, followUp): deliver only when it yields true',
);
const transform = z
  .strictObject({
    body: expression.describe('JSONata: the body the receiver gets, as JSON'),
    headers: z
      .record(z.string().min(1).max(100), z.string().min(1).max(X.expressionChars))
      .refine((h) => Object.keys(h).length <= X.transformHeaders, `at most ${X.transformHeaders} headers`)
      .optional()
      .describe('extra headers: each a JSONata expression, or a literal when not valid JSONata'),
  })
  .superRefine((t, ctx) => {
    const problem = transformProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
  })
  .describe('the body (and headers) the receiver gets instead of the envelope; the signature covers this body');
const breaker = z
  .strictObject({
    enabled: z.boolean().default(true),
    consecutiveFailures: z.number().int().min(L.breakerFailures.min).max(L.breakerFailures.max).default(10),
    failingForMs: z
      .number()
      .int()
      .min(L.breakerFailingForMs.min, 'at least 1 minute (60000 ms)')
      .max(L.breakerFailingForMs.max, 'at most 7 days (604800000 ms)')
      .default(15 * 60_000),
  })
  .describe(
    'hold the subscription after consecutiveFailures failed attempts or failingForMs of failing, whichever comes first; a probe releases it (default: on, 10, 15 min)',
  );

const secretText = (max: number) => z.string().min(1).max(max);

/** An instant of a secret rotation, stored as ISO-8601 in UTC. */
const rotationTime = z.iso
  .datetime({ offset: true })
  .transform((at) => new Date(at).toISOString())
  .describe('ISO-8601 date-time with a zone, e.g. 2026-12-06T00:00:00Z');

export const subscriptionIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'use lower-case letters, digits, - and _ (max 63)');

/** Auth towards the receiver, as Ongoing WMS offers it. Secrets arrive in plain text and are sealed at once. */
const auth = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('basic'),
    username: z.string().min(1).max(L.usernameChars),
    password: secretText(L.secretChars),
  }),
  z.strictObject({ type: z.literal('x-auth-token'), token: secretText(L.tokenChars) }),
]);

const tls = z.strictObject({
  verify: z.boolean().default(true).describe('false = trust any certificate (explicit opt-in, logged as a warning)'),
  ca: pem('certificate').optional(),
  clientCert: pem('certificate').optional(),
  clientKey: pem('private key').optional(),
});

const filter = z.strictObject({
  warehouses: z.array(z.string().min(1).max(L.warehouseChars)).min(1).max(L.filterEntries).optional(),
  goodsOwners: z.array(z.number().int()).min(1).max(L.filterEntries).optional(),
});

/** Fields of a subscription as the admin API and the config file take them. */
const fields = {
  name: z.string().min(1).max(L.nameChars),
  contactEmail: z.string().max(254).pipe(z.email()),
  url: receiverUrl,
  secret: secretText(L.secretChars).optional(),
  active: z.boolean(),
  triggers: z
    .array(triggerSchema)
    .min(1)
    .refine((triggers) => triggersBytes(triggers) <= L.triggersBytes, TRIGGERS_TOO_LARGE),
  filter,
  retryPolicy: z.enum(RETRY_POLICIES),
  retrySchedule: retryScheduleSchema.optional(),
  auth,
  key: secretText(L.secretChars).optional(),
  connectionTimeout: connectionTimeout.prefault('PT30S'),
  signature: z.enum(SIGNATURE_SCHEMES),
  tls,
  ordering: z
    .enum(ORDERINGS)
    .describe(
      'entity: events about the same entity (order, product) arrive in the order hookflow accepted them; none (default): as soon as each is ready',
    ),
  coalesce: coalesce.optional(),
  refreshFollowUpAfter: refreshFollowUpAfter.optional(),
  /** Rotation (docs/security.md): the secret that replaces `secret`, sealed at once and never shown. */
  nextSecret: secretText(L.secretChars)
    .optional()
    .describe(
      'the secret that replaces `secret`: Standard Webhooks signs with both until overlapUntil; other schemes switch at rotateAt',
    ),
  overlapUntil: rotationTime.optional(),
  rotateAt: rotationTime.optional(),
  filterExpression: filterExpression.optional(),
  transform: transform.optional(),
  rateLimit: z
    .number()
    .gt(0)
    .max(L.rateLimitMax)
    .optional()
    .describe('deliveries per second at most, across all workers (docs/operations.md "Throttle")'),
  maxInFlight: z
    .number()
    .int()
    .min(1)
    .max(L.maxInFlightMax)
    .optional()
    .describe('requests to the receiver at once, at most'),
  breaker: breaker.optional(),
};

function checkCombination(
  s: {
    signature?: string;
    secret?: string | null;
    nextSecret?: string | null;
    overlapUntil?: string | null;
    rotateAt?: string | null;
    tls?: { clientCert?: string; clientKey?: string };
    retryPolicy?: string;
    retrySchedule?: unknown;
  },
  ctx: z.RefinementCtx,
) {
  // A next secret without a time would never take over (and a later request could not tell when it should).
  if (typeof s.nextSecret === 'string' && !s.overlapUntil && !s.rotateAt) {
    ctx.addIssue({
      code: 'custom',
      path: ['nextSecret'],
      message: 'give overlapUntil (standard-webhooks) or rotateAt (single-signature schemes) with a nextSecret',
    });
  }
  if (s.retryPolicy === 'custom' && !s.retrySchedule)
    ctx.addIssue({
      code: 'custom',
      path: ['retrySchedule'],
      message:
        'retryPolicy custom needs a retrySchedule: { initialIntervalMs, backoffCoefficient, maximumIntervalMs, maximumDurationMs }',
    });
  if (s.retrySchedule && s.retryPolicy !== undefined && s.retryPolicy !== 'custom')
    ctx.addIssue({
      code: 'custom',
      path: ['retrySchedule'],
      message: `a retrySchedule applies only with retryPolicy custom (not ${s.retryPolicy})`,
    });
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
    ordering: fields.ordering.optional(),
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
    retrySchedule: retryScheduleSchema.nullable(),
    auth: fields.auth,
    key: fields.key.nullable(),
    connectionTimeout,
    signature: fields.signature,
    tls: fields.tls,
    ordering: fields.ordering,
    coalesce: coalesce.nullable(),
    refreshFollowUpAfter: refreshFollowUpAfter.nullable(),
    nextSecret: fields.nextSecret.nullable(),
    overlapUntil: rotationTime.nullable(),
    rotateAt: rotationTime.nullable(),
    filterExpression: filterExpression.nullable(),
    transform: transform.nullable(),
    rateLimit: fields.rateLimit.unwrap().nullable(),
    maxInFlight: fields.maxInFlight.unwrap().nullable(),
    breaker: breaker.nullable(),
  })
  .partial()
  .superRefine(checkCombination);

export type CreateSubscriptionInput = z.output<typeof createSubscriptionSchema>;
export type UpdateSubscriptionInput = z.output<typeof updateSubscriptionSchema>;
export { transform as transformSchema };
