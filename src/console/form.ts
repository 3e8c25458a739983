import type { z } from 'zod';
import {
  createSubscriptionSchema,
  updateSubscriptionSchema,
  type CreateSubscriptionInput,
  type UpdateSubscriptionInput,
} from '../subscriptions/schema';
import { SECRET_FIELD_PATHS, type SubscriptionView } from '../subscriptions/seal';
import { triggerProblem } from '../subscriptions/triggers';
import { knownEventTypes } from '../sources';
import { parseIsoDurationMs } from '../config/duration';
import { breakerSettingsOf } from '../shared/health';

/** Form fields of the subscription page, named as their path in the API's JSON (`filter.warehouses`). */
export const FORM_FIELDS = [
  'id',
  'name',
  'contactEmail',
  'url',
  'secret',
  'nextSecret',
  'overlapUntil',
  'rotateAt',
  'active',
  'triggers',
  'filter.warehouses',
  'filter.goodsOwners',
  'retryPolicy',
  'retrySchedule.initialIntervalMs',
  'retrySchedule.backoffCoefficient',
  'retrySchedule.maximumIntervalMs',
  'retrySchedule.maximumDurationMs',
  'auth.type',
  'auth.username',
  'auth.password',
  'auth.token',
  'key',
  'connectionTimeout',
  'signature',
  'tls.verify',
  'tls.ca',
  'tls.clientCert',
  'tls.clientKey',
  'filterExpression',
  'transform.body',
  'transform.headers',
  'breaker.enabled',
  'breaker.consecutiveFailures',
  'breaker.failingFor',
] as const;

/** Longest accepted value of one form field (PEM bundles are the longest legitimate ones). */
export const MAX_FIELD_CHARS = 32 * 1024;

export type FormValues = Record<string, string>;
export type FieldErrors = Record<string, string>;

/**
 * The posted form as strings: a field given twice or longer than MAX_FIELD_CHARS is refused (null + the
 * error), never silently truncated or joined.
 */
export function readForm(body: unknown): { values: FormValues; errors: FieldErrors } {
  const values: FormValues = {};
  const errors: FieldErrors = {};
  if (body === null || typeof body !== 'object') return { values, errors: { form: 'expected a form post' } };
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value !== 'string') {
      errors[name] = 'given more than once';
      continue;
    }
    if (value.length > MAX_FIELD_CHARS) {
      errors[name] = `too long (at most ${MAX_FIELD_CHARS} characters)`;
      continue;
    }
    // Browsers send textarea line breaks as CRLF; PEM and lists are stored with LF.
    values[name] = value.replace(/\r\n?/g, '\n');
  }
  return { values, errors };
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Numbers where they are numbers; anything else stays a string, so the schema names what is wrong. */
const numbers = (text: string | undefined) => list(text).map((s) => (/^-?\d+$/.test(s) ? Number(s) : s));

const blank = (s: string | undefined) => s === undefined || s.trim() === '';

/** A known event type's checkbox (`trigger:extend-commerce.OrderCreated`, `trigger:extend-commerce.*`). */
export const KNOWN_TRIGGER_FIELD = 'trigger:';

/** The triggers the form offers as checkboxes: each source kind's `<kind>.*` and its known types. */
function offeredTriggers(): Set<string> {
  return new Set(knownEventTypes().flatMap(({ kind, types }) => [`${kind}.*`, ...types]));
}

/** The checked known types, then the free-text ones, each once. */
function triggersOf(v: FormValues): string[] {
  const checked = Object.keys(v)
    .filter((name) => name.startsWith(KNOWN_TRIGGER_FIELD) && v[name] === 'on')
    .map((name) => name.slice(KNOWN_TRIGGER_FIELD.length));
  return [...new Set([...checked, ...list(v.triggers)])];
}

/** The configured sources, whose ids are no trigger prefix (src/subscriptions/triggers.ts). */
export type FormSources = readonly { id: string; kind: string }[];

/** A wait of the custom retry schedule: an ISO-8601 duration (PT30S) or milliseconds; else as typed, for the schema to name. */
const waitMs = (text: string | undefined) => {
  const t = (text ?? '').trim();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  return parseIsoDurationMs(t) ?? t;
};

/** `retryPolicy: custom`: its schedule from the four fields. */
function retrySchedule(v: FormValues) {
  const coefficient = (v['retrySchedule.backoffCoefficient'] ?? '').trim();
  return {
    initialIntervalMs: waitMs(v['retrySchedule.initialIntervalMs']),
    backoffCoefficient:
      coefficient === '' ? undefined : Number.isNaN(Number(coefficient)) ? coefficient : Number(coefficient),
    maximumIntervalMs: waitMs(v['retrySchedule.maximumIntervalMs']),
    maximumDurationMs: waitMs(v['retrySchedule.maximumDurationMs']),
  };
}

/** The fields every save sends, as the API's JSON. */
function common(v: FormValues) {
  const warehouses = list(v['filter.warehouses']);
  const goodsOwners = numbers(v['filter.goodsOwners']);
  return {
    name: v.name?.trim() ?? '',
    contactEmail: v.contactEmail?.trim() ?? '',
    url: v.url?.trim() ?? '',
    active: v.active === 'on',
    triggers: triggersOf(v),
    filter: { ...(warehouses.length ? { warehouses } : {}), ...(goodsOwners.length ? { goodsOwners } : {}) },
    retryPolicy: v.retryPolicy,
    ...(v.retryPolicy === 'custom' ? { retrySchedule: retrySchedule(v) } : {}),
    connectionTimeout: v.connectionTimeout?.trim() || 'PT30S',
    signature: v.signature,
  };
}

function auth(v: FormValues) {
  switch (v['auth.type']) {
    case 'basic':
      return { type: 'basic', username: v['auth.username'] ?? '', password: v['auth.password'] ?? '' };
    case 'x-auth-token':
      return { type: 'x-auth-token', token: v['auth.token'] ?? '' };
    default:
      return { type: v['auth.type'] ?? 'none' };
  }
}

function tls(v: FormValues) {
  return {
    verify: v['tls.verify'] === 'on',
    ...(blank(v['tls.ca']) ? {} : { ca: v['tls.ca'] }),
    ...(blank(v['tls.clientCert']) ? {} : { clientCert: v['tls.clientCert'] }),
    ...(blank(v['tls.clientKey']) ? {} : { clientKey: v['tls.clientKey'] }),
  };
}

/** The rotation fields as typed: the next secret and its times (blank ones left out). */
function rotationOf(v: FormValues) {
  return {
    ...(blank(v.nextSecret) ? {} : { nextSecret: v.nextSecret }),
    ...(blank(v.overlapUntil) ? {} : { overlapUntil: v.overlapUntil!.trim() }),
    ...(blank(v.rotateAt) ? {} : { rotateAt: v.rotateAt!.trim() }),
  };
}

/**
 * The breaker's fields (failing for: minutes), when the form has them; numbers where they are numbers,
 * anything else as typed, so the schema names what is wrong.
 */
function breakerOf(v: FormValues) {
  const failures = v['breaker.consecutiveFailures']?.trim();
  const minutes = v['breaker.failingFor']?.trim();
  if (failures === undefined && minutes === undefined) return undefined;
  const defaults = breakerSettingsOf(undefined);
  return {
    enabled: v['breaker.enabled'] === 'on',
    consecutiveFailures: !failures
      ? defaults.consecutiveFailures
      : /^\d+$/.test(failures)
        ? Number(failures)
        : failures,
    failingForMs: !minutes
      ? defaults.failingForMs
      : /^\d+(\.\d+)?$/.test(minutes)
        ? Math.round(Number(minutes) * 60_000)
        : minutes,
  };
}

const sameBreaker = (a: ReturnType<typeof breakerOf>, b: ReturnType<typeof breakerSettingsOf>) =>
  a !== undefined &&
  a.enabled === b.enabled &&
  a.consecutiveFailures === b.consecutiveFailures &&
  a.failingForMs === b.failingForMs;

type Parsed<T> = { ok: true; input: T } | { ok: false; errors: FieldErrors };

/** `name: value` per line (value = JSONata or a literal); a line without a colon is kept whole, for the schema to name. */
function headerLines(text: string | undefined): Record<string, string> | undefined {
  const lines = (text ?? '').split('\n').filter((line) => line.trim() !== '');
  if (!lines.length) return undefined;
  return Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return colon < 0 ? [line.trim(), ''] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    }),
  );
}

/** The transformation typed in the form, or undefined when its body is blank. */
export function transformOf(v: FormValues) {
  if (blank(v['transform.body'])) return undefined;
  const headers = headerLines(v['transform.headers']);
  return { body: v['transform.body']!.trim(), ...(headers ? { headers } : {}) };
}

/** The content fields (filter and transformation): on create only when given; on edit, blank clears them. */
function content(v: FormValues, edit: boolean) {
  const filter = v.filterExpression?.trim();
  const transform = transformOf(v);
  return {
    ...(filter ? { filterExpression: filter } : edit ? { filterExpression: null } : {}),
    ...(transform ? { transform } : edit ? { transform: null } : {}),
  };
}

export function parseCreate(v: FormValues, sources: FormSources = []): Parsed<CreateSubscriptionInput> {
  const candidate = {
    id: v.id?.trim() ?? '',
    ...common(v),
    ...(blank(v.secret) ? {} : { secret: v.secret }),
    ...rotationOf(v),
    ...(blank(v.key) ? {} : { key: v.key }),
    auth: auth(v),
    tls: tls(v),
    ...content(v, false),
  };
  // Only settings other than the defaults are stored.
  const breaker = breakerOf(v);
  if (breaker && !sameBreaker(breaker, breakerSettingsOf(undefined))) Object.assign(candidate, { breaker });
  return withSourceIds(toResult(createSubscriptionSchema.safeParse(candidate)), candidate.triggers, sources);
}

/** After the schema: a trigger named after a configured source id (which the schema cannot know). */
function withSourceIds<T>(result: Parsed<T>, triggers: readonly string[] | undefined, sources: FormSources): Parsed<T> {
  const problem = (triggers ?? []).map((trigger) => triggerProblem(trigger, sources)).find(Boolean);
  if (!problem) return result;
  return { ok: false, errors: { ...(result.ok ? {} : result.errors), triggers: problem } };
}

/**
 * An edit. Secrets are write-only: a blank secret field keeps the stored one, "remove" clears it. Auth and
 * TLS are replaced as a whole by the API, so they are sent only when changed (and then need their secret).
 */
export function parseUpdate(
  v: FormValues,
  current: SubscriptionView,
  sources: FormSources = [],
): Parsed<UpdateSubscriptionInput> {
  const candidate: Record<string, unknown> = { ...common(v), ...content(v, true) };
  // Checkboxes come first in the form: the same triggers keep the order they were stored in.
  const triggers = candidate.triggers as string[];
  if (triggers.length === current.triggers.length && current.triggers.every((t) => triggers.includes(t)))
    candidate.triggers = current.triggers;
  if (v['secret.remove'] === 'on') candidate.secret = null;
  else if (!blank(v.secret)) candidate.secret = v.secret;
  // A rotation: "remove" ends it (the secret stays); a new next secret is sent with its times, as the API
  // needs them together; a changed time alone moves the switch (blank clears it).
  if (v['nextSecret.remove'] === 'on')
    Object.assign(candidate, { nextSecret: null, overlapUntil: null, rotateAt: null });
  else if (!blank(v.nextSecret)) Object.assign(candidate, rotationOf(v));
  else
    for (const field of ['overlapUntil', 'rotateAt'] as const)
      if ((v[field] ?? '').trim() !== (current[field] ?? ''))
        candidate[field] = blank(v[field]) ? null : v[field]!.trim();
  if (v['key.remove'] === 'on') candidate.key = null;
  else if (!blank(v.key)) candidate.key = v.key;

  const authType = v['auth.type'] ?? 'none';
  const authChanged =
    authType !== current.auth.type ||
    !blank(v['auth.password']) ||
    !blank(v['auth.token']) ||
    (authType === 'basic' && 'username' in current.auth && v['auth.username'] !== current.auth.username);
  if (authChanged) candidate.auth = auth(v);

  const tlsChanged =
    (v['tls.verify'] === 'on') !== current.tls.verify ||
    (v['tls.ca'] ?? '').trim() !== (current.tls.ca ?? '').trim() ||
    (v['tls.clientCert'] ?? '').trim() !== (current.tls.clientCert ?? '').trim() ||
    !blank(v['tls.clientKey']);
  if (tlsChanged) candidate.tls = tls(v);
  const breaker = breakerOf(v);
  if (breaker && !sameBreaker(breaker, breakerSettingsOf(current.breaker))) candidate.breaker = breaker;
  // The schema checks "standard-webhooks needs a secret" on what is sent; a stored secret counts too.
  if (candidate.signature === 'standard-webhooks' && candidate.secret === undefined && current.secret)
    delete candidate.signature;
  const result = withSourceIds(
    toResult(updateSubscriptionSchema.safeParse(candidate)),
    candidate.triggers as string[],
    sources,
  );
  if (result.ok && v.signature === 'standard-webhooks' && candidate.signature === undefined)
    result.input.signature = 'standard-webhooks';
  return result;
}

function toResult<T>(result: z.ZodSafeParseResult<T>): Parsed<T> {
  if (result.success) return { ok: true, input: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = fieldOf(issue.path.map(String));
    errors[field] ??= inWords(issue);
  }
  return { ok: false, errors };
}

type Issue = z.core.$ZodIssue & {
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  format?: string;
  expected?: string;
  values?: unknown[];
};

/**
 * An issue as a sentence for the form: the schema's own messages ("must be an http(s) URL") stay, zod's
 * built-in ones ("Too small: expected string to have >=1 characters") are said in words.
 */
export function inWords(issue: Issue): string {
  if (!/^(Invalid|Too (small|big))\b/.test(issue.message)) return issue.message;
  const items = issue.origin === 'array' || issue.origin === 'set';
  switch (issue.code) {
    case 'too_small':
      if (items) return Number(issue.minimum) === 1 ? 'add at least one' : `add at least ${issue.minimum}`;
      if (issue.origin === 'string')
        return Number(issue.minimum) === 1 ? 'required' : `at least ${issue.minimum} characters`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (items) return `at most ${issue.maximum} entries`;
      if (issue.origin === 'string') return `too long (at most ${issue.maximum} characters)`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_format':
      if (issue.format === 'email') return 'must be an e-mail address, such as ops@example.com';
      if (issue.format === 'url') return 'must be a URL';
      return 'not in the expected format';
    case 'invalid_type':
      if (issue.expected === 'number' || issue.expected === 'int')
        return issue.path.includes('goodsOwners') ? 'must be numbers (ids), such as 12, 34' : 'must be a number';
      return 'required';
    case 'invalid_value':
      return `choose one of: ${(issue.values ?? []).map(String).join(', ')}`;
    default:
      return 'not a valid value';
  }
}

/** The form field an issue belongs to: the longest field name its path starts with. */
export function fieldOf(path: string[]): string {
  for (let n = Math.min(path.length, 2); n > 0; n--) {
    const name = path.slice(0, n).join('.');
    if ((FORM_FIELDS as readonly string[]).includes(name)) return name;
  }
  if (path[0] === 'retrySchedule') return 'retrySchedule.initialIntervalMs';
  if (path[0] === 'breaker') return 'breaker.failingFor';
  if (path[0] === 'auth') return 'auth.type';
  if (path[0] === 'tls') return 'tls.clientCert';
  if (path[0] === 'filter') return 'filter.warehouses';
  if (path[0] === 'transform') return 'transform.body';
  return 'form';
}

const isoOf = (ms: number) => `PT${ms / 1000}S`;

/** Form values of a stored subscription (never its secrets: those fields stay empty). */
export function valuesOf(s: SubscriptionView): FormValues {
  const offered = offeredTriggers();
  const checked = Object.fromEntries(
    s.triggers.filter((t) => offered.has(t)).map((t) => [`${KNOWN_TRIGGER_FIELD}${t}`, 'on']),
  );
  return {
    ...checked,
    id: s.id,
    name: s.name,
    contactEmail: s.contactEmail,
    url: s.url,
    active: s.active ? 'on' : '',
    triggers: s.triggers.filter((t) => !offered.has(t)).join('\n'),
    'filter.warehouses': (s.filter.warehouses ?? []).join(', '),
    'filter.goodsOwners': (s.filter.goodsOwners ?? []).join(', '),
    retryPolicy: s.retryPolicy,
    ...(s.retrySchedule
      ? {
          'retrySchedule.initialIntervalMs': isoOf(s.retrySchedule.initialIntervalMs),
          'retrySchedule.backoffCoefficient': String(s.retrySchedule.backoffCoefficient),
          'retrySchedule.maximumIntervalMs': isoOf(s.retrySchedule.maximumIntervalMs),
          'retrySchedule.maximumDurationMs': isoOf(s.retrySchedule.maximumDurationMs),
        }
      : {}),
    'auth.type': s.auth.type,
    'auth.username': s.auth.type === 'basic' ? (s.auth.username ?? '') : '',
    connectionTimeout: s.connectionTimeout,
    signature: s.signature,
    overlapUntil: s.overlapUntil ?? '',
    rotateAt: s.rotateAt ?? '',
    'tls.verify': s.tls.verify ? 'on' : '',
    'tls.ca': s.tls.ca ?? '',
    'tls.clientCert': s.tls.clientCert ?? '',
    filterExpression: s.filterExpression ?? '',
    'transform.body': s.transform?.body ?? '',
    'transform.headers': Object.entries(s.transform?.headers ?? {})
      .map(([name, value]) => `${name}: ${value}`)
      .join('\n'),
    ...breakerValues(s.breaker),
  };
}

/** The breaker's form fields, of a subscription's settings (the defaults when it has none). */
export function breakerValues(breaker: Parameters<typeof breakerSettingsOf>[0]): FormValues {
  const settings = breakerSettingsOf(breaker);
  return {
    'breaker.enabled': settings.enabled ? 'on' : '',
    'breaker.consecutiveFailures': String(settings.consecutiveFailures),
    'breaker.failingFor': String(settings.failingForMs / 60_000),
  };
}

/** What a failed save shows again: what was typed, less every secret. */
export function withoutSecrets(v: FormValues): FormValues {
  return Object.fromEntries(Object.entries(v).filter(([name]) => !SECRET_FIELD_PATHS.has(name)));
}
