import { Agent, type Dispatcher } from 'undici';
import type { OutboundAuth } from '../config/schema';
import { basicAuthHeader } from '../signing/credentials';

/** One keep-alive connection pool per worker, shared by all activities. */
export function createHttpAgent(): Dispatcher {
  return new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 128 });
}

export function authHeaders(auth: OutboundAuth): Record<string, string> {
  switch (auth.type) {
    case 'none':
      return {};
    case 'basic':
      return { authorization: basicAuthHeader(auth.username, auth.password) };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'header':
      return { [auth.name.toLowerCase()]: auth.value };
  }
}

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Reads at most `limit` bytes of a response body; more is an error (Temporal payloads are bounded). */
export async function readLimited(body: Dispatcher.ResponseData['body'], limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Statuses worth another attempt: the receiver may recover. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 300 && status < 400) || status >= 500;
}
