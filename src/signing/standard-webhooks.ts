import { decodeBase64, hmacSha256 } from './hmac';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `<webhook-id>.<webhook-timestamp>.<body>`. A `whsec_` secret is base64 key material (the spec's
 * form); any other secret is used as its UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const key = decodeBase64(secret.slice('whsec_'.length));
    if (key) return key;
  }
  return Buffer.from(secret, 'utf8');
}

export function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Buffer,
): string {
  const signed = Buffer.concat([Buffer.from(`${id}.${timestampSeconds}.`, 'utf8'), Buffer.from(body)]);
  return `v1,${hmacSha256(standardWebhooksKey(secret), signed).toString('base64')}`;
}
