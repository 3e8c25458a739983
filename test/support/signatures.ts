import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordedRequest } from './fake-http';

/**
 * Independent signers and verifiers of the three signature schemes, written from their specifications
 * (not the code under test): HMAC-SHA256 over the body, as sources send it and as subscribers check it.
 */
function hmac(key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Standard Webhooks: a `whsec_` secret is base64 key material, any other its UTF-8 bytes. */
const standardKey = (secret: string) =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);

export const sign = {
  /** Extend Commerce: `sha256=<HEX>`. */
  ms: (secret: string, body: string | Buffer) => `sha256=${hmac(secret, body).toString('hex').toUpperCase()}`,
  /** Automation API: lower-case hex. */
  x: (secret: string, body: string | Buffer) => hmac(secret, body).toString('hex'),
  /** Standard Webhooks: the raw digest over `<id>.<timestamp>.<body>`. */
  standard: (secret: string, id: string, timestamp: string, body: string | Buffer) =>
    hmac(standardKey(secret), `${id}.${timestamp}.`, body),
};

export const verify = {
  ms: (secret: string, request: RecordedRequest) => request.headers['ms-signature'] === sign.ms(secret, request.body),
  x: (secret: string, request: RecordedRequest) => request.headers['x-signature'] === sign.x(secret, request.body),
  standard(secret: string, request: RecordedRequest): boolean {
    const timestamp = String(request.headers['webhook-timestamp']);
    const expected = sign.standard(secret, String(request.headers['webhook-id']), timestamp, request.body);
    const given = String(request.headers['webhook-signature'] ?? '')
      .split(' ')
      .filter((part) => part.startsWith('v1,'))
      .map((part) => Buffer.from(part.slice(3), 'base64'));
    const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
    return fresh && given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  },
};
