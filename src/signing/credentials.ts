import { constantTimeEqual } from './hmac';

/** Ongoing WMS's receiver authentication: `Authorization: Basic base64(user:password)`. */
export function verifyBasicAuth(header: string | undefined, username: string, password: string): boolean {
  const match = header ? /^\s*Basic\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], 'base64');
  return constantTimeEqual(given, Buffer.from(`${username}:${password}`, 'utf8'));
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** A fixed shared token (Ongoing's `X-Auth-Token`, the Automation API's `key` parameter). */
export function verifyToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  return constantTimeEqual(Buffer.from(given, 'utf8'), Buffer.from(expected, 'utf8'));
}
