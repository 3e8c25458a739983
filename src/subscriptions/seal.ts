import type { Keyring } from '../security/keyring';
import { seal } from '../security/sealed';
import { rotationSwitchAt } from '../shared/secret-rotation';
import type { Subscription, SubscriptionPatch } from '../shared/subscription';
import type { CreateSubscriptionInput, UpdateSubscriptionInput } from './schema';

type Auth =
  { type: 'none' } | { type: 'basic'; username: string; password: string } | { type: 'x-auth-token'; token: string };

/**
 * The secret fields of a subscription, each plain text (API input, an attempt's opened credentials),
 * sealed (stored) or masked (shown). `null` clears a field in a patch.
 */
interface SecretFields {
  secret?: string | null;
  nextSecret?: string | null;
  key?: string | null;
  auth?: Auth;
  tls?: { clientKey?: string | null };
}

/**
 * The one place that knows which fields of a subscription are secret: `secret`, `nextSecret`, `key`, the auth
 * password or token, and the TLS client key. Maps each one that is set through `f` (seal, unseal,
 * mask) and leaves every other field, and absent or null secrets, as they are.
 */
export function mapSecrets<S extends SecretFields>(fields: S, f: (value: string) => string): S {
  const map = <V extends string | null | undefined>(value: V): V =>
    value === undefined || value === null ? value : (f(value) as V);
  const out: S = { ...fields };
  if ('secret' in fields) out.secret = map(fields.secret);
  if ('nextSecret' in fields) out.nextSecret = map(fields.nextSecret);
  if ('key' in fields) out.key = map(fields.key);
  if (fields.auth !== undefined) out.auth = mapAuth(fields.auth, f);
  if (fields.tls !== undefined) out.tls = { ...fields.tls, clientKey: map(fields.tls.clientKey) };
  return out;
}

/** The same fields as form/field paths (the console drops them from a form it shows again). */
export const SECRET_FIELD_PATHS: ReadonlySet<string> = new Set([
  'secret',
  'nextSecret',
  'key',
  'auth.password',
  'auth.token',
  'tls.clientKey',
]);

function mapAuth(auth: Auth, f: (value: string) => string): Auth {
  switch (auth.type) {
    case 'none':
      return auth;
    case 'basic':
      return { ...auth, password: f(auth.password) };
    case 'x-auth-token':
      return { ...auth, token: f(auth.token) };
  }
}

/** Turns validated API/config input into the stored form: secrets sealed, durations in ms. */
export function toPatch(input: CreateSubscriptionInput | UpdateSubscriptionInput, keyring: Keyring): SubscriptionPatch {
  const { connectionTimeout, coalesce, refreshFollowUpAfter, ...rest } = input as UpdateSubscriptionInput & {
    id?: string;
  };
  const patch: SubscriptionPatch = mapSecrets(rest, (plain) => seal(keyring, plain));
  if (coalesce !== undefined)
    patch.coalesce = coalesce === null ? null : { windowMs: coalesce.window, key: coalesce.key, types: coalesce.types };
  if (refreshFollowUpAfter !== undefined) patch.refreshFollowUpAfterMs = refreshFollowUpAfter;
  if (connectionTimeout !== undefined) patch.timeoutMs = connectionTimeout;
  // Cancelling a rotation clears its times too: without a next secret they mean nothing.
  if (patch.nextSecret === null) Object.assign(patch, { overlapUntil: null, rotateAt: null });
  return patch;
}

/** A subscription's credentials for one attempt, opened from their sealed form (`open` may refuse). */
export function openSecrets(subscription: Subscription, open: (sealed: string) => string) {
  const { secret, nextSecret, key, auth } = mapSecrets(
    {
      secret: subscription.secret,
      nextSecret: subscription.nextSecret,
      key: subscription.key,
      auth: subscription.auth,
    },
    open,
  );
  const switchAtMs = rotationSwitchAt(subscription);
  return { secret, key, auth, ...(nextSecret !== undefined ? { nextSecret, switchAtMs } : {}) };
}

const MASK = '********';

function rotationSwitchAtIso(subscription: Subscription): string | null {
  const ms = rotationSwitchAt(subscription);
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** What the API shows: everything but secrets, which appear only as "set". */
export function publicView(subscription: Subscription) {
  const {
    secret,
    nextSecret,
    overlapUntil,
    rotateAt,
    key,
    auth,
    tls,
    timeoutMs,
    coalesce,
    refreshFollowUpAfterMs,
    ...rest
  } = mapSecrets(subscription, () => MASK);
  return {
    ...rest,
    connectionTimeout: `PT${timeoutMs / 1000}S`,
    coalesce: coalesce ? { window: `PT${coalesce.windowMs / 1000}S`, key: coalesce.key, types: coalesce.types } : null,
    refreshFollowUpAfter: refreshFollowUpAfterMs !== undefined ? `PT${refreshFollowUpAfterMs / 1000}S` : null,
    secret: secret ?? null,
    // Masked like `secret`; the times say which secret signs when (`switchAt`: the next one alone from then on).
    nextSecret: nextSecret ?? null,
    overlapUntil: overlapUntil ?? null,
    rotateAt: rotateAt ?? null,
    switchAt: rotationSwitchAtIso(subscription),
    key: key ?? null,
    auth,
    tls: {
      verify: tls.verify,
      ca: tls.ca ?? null,
      clientCert: tls.clientCert ?? null,
      clientKey: tls.clientKey ?? null,
    },
  };
}

export type SubscriptionView = ReturnType<typeof publicView>;
