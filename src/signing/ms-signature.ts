import { constantTimeEqual, decodeHex, hmacSha256 } from './hmac';

/**
 * Extend Commerce's `ms-signature` header: `sha256=<HEX>` where HEX is HMAC-SHA256(secret, raw body).
 * Extend sends upper-case hex; we accept any case.
 */
export const MS_SIGNATURE_HEADER = 'ms-signature';

export function signMsSignature(secret: string, body: Buffer | string): string {
  return `sha256=${hmacSha256(secret, body).toString('hex').toUpperCase()}`;
}

export function verifyMsSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const match = /^\s*sha256=([0-9a-fA-F]+)\s*$/.exec(header);
  const given = match?.[1] ? decodeHex(match[1]) : undefined;
  if (!given) return false;
  return constantTimeEqual(given, hmacSha256(secret, body));
}
