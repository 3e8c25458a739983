import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { OutboundAuth } from '../sources/source-config';
import { createSsrfGuard, findSsrfRefusal, type SsrfGuard } from '../security/ssrf';
import { basicAuthHeader } from '../signing/credentials';
import type { AttemptBody } from '../shared/delivery';
import { FailureType } from '../shared/failure-types';

/** One keep-alive connection pool per worker, shared by all activities; `allow` is config.network.allow. */
export function createHttpAgent(allow: readonly string[]): Dispatcher {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: 128,
    connect: guardedConnector(createSsrfGuard(allow)),
  });
}

/**
 * An undici connector (Agent `connect`) that applies the SSRF guard to every new connection, whatever
 * the request or redirect hop: host names through `lookup` (net/tls.connect resolve with it, so the
 * checked address is the one connected to), IP literals here, because net.connect skips lookup for them.
 */
export function guardedConnector(
  guard: SsrfGuard,
  options: buildConnector.BuildOptions = {},
): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: guard.lookup });
  return (opts, callback) => {
    const refused = isIP(opts.hostname) ? guard.check(opts.hostname, opts.hostname) : undefined;
    // Asynchronously, like a failing socket: undici does not expect the callback during the call.
    if (refused) process.nextTick(callback, refused, null);
    else connect(opts, callback);
  };
}

/** An SSRF refusal in a request error, as a permanent failure: retrying cannot help until network.allow changes. */
export function ssrfFailure(err: unknown): ApplicationFailure | undefined {
  const refused = findSsrfRefusal(err);
  return (
    refused &&
    ApplicationFailure.create({ type: FailureType.SsrfRefused, message: refused.message, nonRetryable: true })
  );
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

/** The first `keep` bytes of a body, its size, and whether it ended within `drain` bytes (then the connection is reusable). */
export async function readHead(
  body: Dispatcher.ResponseData['body'],
  keep: number,
  drain: number,
): Promise<{ head: Buffer; bytes: number; complete: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (kept < keep) {
      const part = buffer.subarray(0, keep - kept);
      chunks.push(part);
      kept += part.length;
    }
    if (bytes > drain) {
      body.destroy();
      return { head: Buffer.concat(chunks), bytes, complete: false };
    }
  }
  return { head: Buffer.concat(chunks), bytes, complete: true };
}

/**
 * A body's head for the attempt log: UTF-8 text as text (a character cut at the limit is dropped), anything
 * else (invalid UTF-8, NUL bytes) as base64.
 */
export function attemptBody(head: Buffer, bytes: number, complete: boolean): AttemptBody {
  const truncated = !complete || bytes > head.length;
  try {
    // stream: true leaves an incomplete last character undecoded instead of failing on it.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: truncated });
    if (!text.includes('\u0000')) return { bytes, encoding: 'text', content: text, truncated };
  } catch {
    // not UTF-8: binary
  }
  return { bytes, encoding: 'base64', content: head.toString('base64'), truncated };
}

/** Response headers an attempt record keeps: ids, types, timing; never cookies or credentials. */
export const KEPT_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'retry-after',
  'location',
  'date',
  'server',
  'cache-control',
  'x-request-id',
  'x-correlation-id',
  'request-id',
  'traceparent',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
] as const;

/** The allowlisted response headers, each value at most 512 characters. */
export function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    kept[name] = (Array.isArray(value) ? value.join(', ') : value).slice(0, 512);
  }
  return kept;
}

/** `Service Unavailable` for 503; empty for a status without a standard phrase. */
export const statusText = (status: number) => STATUS_CODES[status] ?? '';

const ERROR_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the receiver',
  EPIPE: 'connection closed by the receiver while sending',
  ENOTFOUND: 'DNS: host not found',
  EAI_AGAIN: 'DNS: lookup failed (temporary)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timeout',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_SOCKET: 'connection closed by the receiver',
  UND_ERR_HEADERS_OVERFLOW: 'response headers too large',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'response body shorter than its content-length',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: certificate does not match the host name',
  HPE_INVALID_CONSTANT: 'not an HTTP response',
};

/** Node's own certificate messages (`certificate has expired`) are fixed words: safe to show. */
const CERT_CODE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_)/;

/**
 * A request error in words, from its code (through `cause` and AggregateError): `connection refused`,
 * `TLS: certificate has expired`. Built from codes and fixed phrases only, never from an error's free
 * text, so it carries no address, URL or key and may stay readable in failure messages.
 */
export function networkErrorWords(err: unknown): string {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  let fallback: string | undefined;
  while (queue.length > 0) {
    const e = queue.shift() as (Error & { code?: unknown; reason?: unknown; errors?: unknown[] }) | undefined;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && ERROR_WORDS[code]) return ERROR_WORDS[code];
    if (code && CERT_CODE.test(code)) return `TLS: ${/^[\w\s'-]{1,120}$/.test(e.message) ? e.message : code}`;
    if (code?.startsWith('ERR_SSL_'))
      return `TLS: ${typeof e.reason === 'string' && /^[\w\s'-]{1,120}$/.test(e.reason) ? e.reason : code}`;
    if (code && !fallback) fallback = code;
    queue.push(e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return fallback ? `network error (${fallback})` : 'network error';
}
