import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 of the exact body bytes; the key is the secret's UTF-8 bytes (as all three sources do). */
export function hmacSha256(secret: string | Buffer, body: Buffer | string): Buffer {
  return createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
    .update(body)
    .digest();
}

/** Constant-time comparison that also hides length differences behind a fixed-size digest compare. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual throws on unequal lengths; comparing equal-length HMACs of both sides keeps the
  // time independent of where (or whether) the inputs differ.
  const key = 'hookflow-compare';
  const equalDigests = timingSafeEqual(hmacSha256(key, a), hmacSha256(key, b));
  return equalDigests && a.length === b.length;
}

/** Decodes hex (any case) strictly: odd length or non-hex characters give undefined. */
export function decodeHex(text: string): Buffer | undefined {
  return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/** Decodes standard or URL-safe base64 strictly. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length > 0 ? bytes : undefined;
}
