import { basicAuthHeader } from '../signing/credentials';
import { signMsSignature } from '../signing/ms-signature';
import { signStandardWebhook } from '../signing/standard-webhooks';
import { signXSignature } from '../signing/x-signature';
import { headerValue } from '../shared/bounded';
import type { OutboundEvent } from '../shared/delivery';
import { signingSecrets } from '../shared/secret-rotation';
import type { SignatureScheme } from '../shared/subscription';

/** A subscription's credentials, opened from their sealed form for one attempt. */
export interface OpenedCredentials {
  secret?: string;
  /** The secret being rotated in, and when it alone signs (src/shared/secret-rotation.ts). */
  nextSecret?: string;
  switchAtMs?: number;
  auth:
    { type: 'none' } | { type: 'basic'; username: string; password: string } | { type: 'x-auth-token'; token: string };
  key?: string;
}

/**
 * Signature headers of one attempt over `body`, per scheme: the compiler checks every scheme has one.
 * `secrets` has one entry, or two (old, new) for a multi-signature scheme during a rotation's overlap.
 */
type Signer = (secrets: string[], body: string, event: OutboundEvent, nowMs: number) => Record<string, string>;

const SIGNERS: Record<SignatureScheme, Signer> = {
  'ms-signature': ([secret], body) => ({ 'ms-signature': signMsSignature(secret!, body) }),
  'x-signature': ([secret], body) => ({ 'x-signature': signXSignature(secret!, body) }),
  'standard-webhooks': (secrets, body, event, nowMs) => {
    const timestamp = Math.floor(nowMs / 1000);
    return {
      'webhook-id': event.uuid,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(secrets, event.uuid, timestamp, body),
    };
  },
};

/** Headers (signature, auth) and URL (key parameter) of one delivery attempt over `body`. */
export function signRequest(
  url: string,
  event: OutboundEvent,
  scheme: SignatureScheme,
  body: string,
  credentials: OpenedCredentials,
  attempt: number,
  nowMs: number,
): { url: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'hookflow',
    // Ids and types come from the sources and may hold any character; the body has them exactly.
    'x-hookflow-event-id': headerValue(event.id),
    'x-hookflow-event-type': headerValue(event.type),
    'x-hookflow-attempt': String(attempt),
    // Coalescing: how many notifications this delivery stands for (it carries the latest).
    ...(event.coalesced ? { 'x-hookflow-coalesced': String(event.coalesced.count) } : {}),
  };
  const { secret, nextSecret, switchAtMs, auth, key } = credentials;
  // Which secret signs is decided here, at send time, by the clock: no workflow step has to run first.
  const secrets = signingSecrets(scheme, secret, nextSecret, switchAtMs, nowMs);
  if (secrets.length) Object.assign(headers, SIGNERS[scheme](secrets, body, event, nowMs));
  if (auth.type === 'basic') headers.authorization = basicAuthHeader(auth.username, auth.password);
  if (auth.type === 'x-auth-token') headers['x-auth-token'] = auth.token;
  let target = url;
  if (key !== undefined) {
    const withKey = new URL(url);
    withKey.searchParams.set('key', key);
    target = withKey.toString();
  }
  return { url: target, headers };
}
