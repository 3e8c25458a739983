import { constantTimeEqual, decodeBase64, decodeHex, hmacSha256 } from './hmac';

/**
 * The Automation API's `X-Signature` header: HMAC-SHA256(secret, raw body). Its documentation does not
 * say how the digest is encoded, so verification accepts hex (any case) or base64, with or without a
 * `sha256=` prefix. We sign outbound deliveries with lower-case hex and no prefix.
 */
export const X_SIGNATURE_HEADER = 'x-signature';

export function signXSignature(secret: string, body: Buffer | string): string {
  return hmacSha256(secret, body).toString('hex');
}

export function verifyXSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const value = header.trim().replace(/^sha256=/i, '');
  const expected = hmacSha256(secret, body);
  // A 64-character hex string is also valid base64, so try hex first, then base64.
  const candidates = [decodeHex(value), decodeBase64(value)].filter((b): b is Buffer => b !== undefined);
  let ok = false;
  for (const candidate of candidates) ok = constantTimeEqual(candidate, expected) || ok;
  return ok;
}
