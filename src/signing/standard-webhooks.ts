import { constantTimeEqual, decodeBase64, hmacSha256 } from './hmac';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `<webhook-id>.<webhook-timestamp>.<body>`. A `whsec_` secret is base64 key material (the spec's
 * form); any other secret is used as its UTF-8 bytes. During a secret rotation the header carries one
 * signature per secret, space-separated (`v1,<old> v1,<new>`), and a receiver accepts any that verifies.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const key = decodeBase64(secret.slice('whsec_'.length));
    if (key) return key;
  }
  return Buffer.from(secret, 'utf8');
}

function signedContent(id: string, timestampSeconds: number, body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${id}.${timestampSeconds}.`, 'utf8'), Buffer.from(body)]);
}

/** The header value: one `v1,<signature>` per secret, in the order given. */
export function signStandardWebhook(
  secrets: string | readonly string[],
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): string {
  const content = signedContent(id, timestampSeconds, body);
  return (typeof secrets === 'string' ? [secrets] : secrets)
    .map((secret) => `v1,${hmacSha256(standardWebhooksKey(secret), content).toString('base64')}`)
    .join(' ');
}

/** Does any `v1` signature of the header verify with `secret`? (Other versions are ignored, as the spec says.) */
export function verifyStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
  header: string | undefined,
): boolean {
  if (!header) return false;
  const expected = hmacSha256(standardWebhooksKey(secret), signedContent(id, timestampSeconds, body));
  let ok = false;
  for (const part of header.trim().split(/\s+/)) {
    const [version, signature] = part.split(',', 2);
    const given = version === 'v1' && signature ? decodeBase64(signature) : undefined;
    if (given) ok = constantTimeEqual(given, expected) || ok;
  }
  return ok;
}
