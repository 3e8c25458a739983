import { isIP } from 'node:net';
import { ApplicationFailure } from '@temporalio/activity';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { OutboundAuth } from '../sources/source-config';
import { createSsrfGuard, findSsrfRefusal, type SsrfGuard } from '../security/ssrf';
import { basicAuthHeader } from '../signing/credentials';
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
