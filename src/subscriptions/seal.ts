import type { Keyring } from '../security/keyring';
import { seal } from '../security/sealed';
import type { Subscription, SubscriptionPatch } from '../shared/outbound';
import type { CreateSubscriptionInput, UpdateSubscriptionInput } from './schema';

/** Turns validated API/config input into the stored form: secrets sealed, durations in ms. */
export function toPatch(input: CreateSubscriptionInput | UpdateSubscriptionInput, keyring: Keyring): SubscriptionPatch {
  const { connectionTimeout, secret, key, auth, tls, coalesce, refreshFollowUpAfter, ...rest } = input as UpdateSubscriptionInput & { id?: string };
  const patch: SubscriptionPatch = { ...rest };
  if (coalesce !== undefined) patch.coalesce = coalesce === null ? null : { windowMs: coalesce.window, key: coalesce.key, types: coalesce.types };
  if (refreshFollowUpAfter !== undefined) patch.refreshFollowUpAfterMs = refreshFollowUpAfter;
  if (connectionTimeout !== undefined) patch.timeoutMs = connectionTimeout;
  if (secret !== undefined) patch.secret = secret === null ? null : seal(keyring, secret);
  if (key !== undefined) patch.key = key === null ? null : seal(keyring, key);
  if (auth !== undefined) {
    patch.auth =
      auth.type === 'basic'
        ? { type: 'basic', username: auth.username, password: seal(keyring, auth.password) }
        : auth.type === 'x-auth-token'
          ? { type: 'x-auth-token', token: seal(keyring, auth.token) }
          : { type: 'none' };
  }
  if (tls !== undefined) {
    patch.tls = { verify: tls.verify, ca: tls.ca, clientCert: tls.clientCert, clientKey: tls.clientKey ? seal(keyring, tls.clientKey) : undefined };
  }
  return patch;
}

const MASK = '********';

/** What the API shows: everything but secrets, which appear only as "set". */
export function publicView(subscription: Subscription) {
  const { secret, key, auth, tls, timeoutMs, coalesce, refreshFollowUpAfterMs, ...rest } = subscription;
  return {
    ...rest,
    connectionTimeout: `PT${timeoutMs / 1000}S`,
    coalesce: coalesce ? { window: `PT${coalesce.windowMs / 1000}S`, key: coalesce.key, types: coalesce.types } : null,
    refreshFollowUpAfter: refreshFollowUpAfterMs !== undefined ? `PT${refreshFollowUpAfterMs / 1000}S` : null,
    secret: secret ? MASK : null,
    key: key ? MASK : null,
    auth: auth.type === 'basic' ? { type: auth.type, username: auth.username, password: MASK } : auth.type === 'x-auth-token' ? { type: auth.type, token: MASK } : auth,
    tls: { verify: tls.verify, ca: tls.ca ?? null, clientCert: tls.clientCert ?? null, clientKey: tls.clientKey ? MASK : null },
  };
}

export type SubscriptionView = ReturnType<typeof publicView>;
