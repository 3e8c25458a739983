import type { FastifyRequest } from 'fastify';

const ORIGIN = 'http://console.invalid';

/**
 * Where sign-in may send the operator back to: a path of this console (`/console...`, with its query),
 * never another site (`//evil`, `/\evil`, `https://...`), never sign-in or sign-out themselves; null
 * otherwise.
 */
export function safeNextPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2000) return null;
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== ORIGIN || !/^\/console(\/|$)/.test(url.pathname)) return null;
  if (/^\/console\/(login|logout)\/?$/.test(url.pathname)) return null;
  return url.pathname + url.search;
}

/**
 * The console page a form was posted from, by its Referer (sent to our own origin only, see the
 * Referrer-Policy), when it names this host; null otherwise.
 */
export function pageOfPost(request: FastifyRequest): string | null {
  const referer = request.headers.referer;
  const host = request.headers.host;
  if (!referer || !host) return null;
  try {
    const from = new URL(referer);
    if (from.host !== new URL(`${from.protocol}//${host}`).host) return null;
    return safeNextPath(from.pathname + from.search);
  } catch {
    return null;
  }
}
