import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { trace, type SpanContext } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import type { HookflowConfig } from '../config/schema';
import { SOURCE_SECRET_HEADERS } from '../sources';
import { redactQueryValues } from './redact-query';

export type LogLevel = HookflowConfig['logging']['level'];
const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Credentials clients send us (headers: each source module lists its own, plus the generic ones and the
 * Standard Webhooks signature subscribers' test peers echo) or that configs and subscriptions carry (fields).
 */
const SECRET_HEADERS = [...new Set(['authorization', 'cookie', 'webhook-signature', ...SOURCE_SECRET_HEADERS])];
const SECRET_FIELDS = ['secret', 'password', 'token', 'clientKey'];

/** `secret`, `*.secret`, `*.*.secret`, `*.*.*.secret` for each field: wildcards only go one level each. */
export const REDACT_PATHS = [
  ...SECRET_HEADERS.map((h) => `req.headers["${h}"]`),
  ...SECRET_FIELDS.flatMap((f) => [0, 1, 2, 3].map((depth) => [...Array<string>(depth).fill('*'), f].join('.'))),
];

/**
 * Query parameters that can carry a credential (compared by name, case-insensitively, after percent-
 * decoding, ignoring `[]`-style suffixes): the Automation API's `key`, OAuth's `access_token`, and the
 * names people put tokens, passwords and signatures under.
 */
const CREDENTIAL_PARAMS = new Set([
  'key',
  'apikey',
  'api_key',
  'api-key',
  'token',
  'access_token',
  'accesstoken',
  'id_token',
  'refresh_token',
  'auth',
  'authorization',
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'client_secret',
  'signature',
  'sig',
  'sign',
  'code',
  'session',
  'sessionid',
  'jwt',
  'bearer',
]);

function paramName(raw: string): string {
  let name = raw;
  try {
    name = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // a malformed escape: compare the raw name
  }
  return name.toLowerCase().replace(/\[.*$/, '').trim();
}

/** The credential-like parameter names in a URL's query string (as sent). */
export function credentialQueryParameters(url: string): string[] {
  const query = url.split('#')[0]!.split('?').slice(1).join('?');
  if (!query) return [];
  return query
    .split('&')
    .map((pair) => pair.split('=')[0]!)
    .filter((name) => CREDENTIAL_PARAMS.has(paramName(name)));
}

/** Fastify logs the URL: the value of every credential-like query parameter is masked there. */
export function maskCredentialParams(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const [query, ...fragment] = url.slice(at + 1).split('#');
  const masked = query!
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return CREDENTIAL_PARAMS.has(paramName(name)) ? `${name}=[Redacted]` : pair;
    })
    .join('&');
  return [url.slice(0, at + 1) + masked, ...fragment].join('#');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: IncomingMessage['headers'];
  socket?: { remotePort?: number };
}

/**
 * Like Fastify's default, plus headers (redacted above): which signature header a source sent is worth
 * seeing. Every query value is redacted, not only those of credential-like names.
 */
function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactQueryValues(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
    headers: req.headers,
  };
}

/** LOG_LEVEL (the container convention) overrides `logging.level`. */
export function logLevel(config: Pick<HookflowConfig, 'logging'>, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const fromEnv = env.LOG_LEVEL?.toLowerCase();
  return fromEnv && LEVELS.includes(fromEnv) ? (fromEnv as LogLevel) : config.logging.level;
}

/** What `buildApp` takes as its logger: these options, optionally with a destination (tests capture lines). */
export type HookflowLoggerOptions = LoggerOptions & { stream?: DestinationStream };

/**
 * Readable lines for a person at a terminal (`npm start`); JSON lines everywhere else, and always in
 * production, where a log collector reads them.
 */
export function prettyLogs(
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean } = process.stdout,
): boolean {
  return stdout.isTTY === true && env.NODE_ENV !== 'production';
}

/** Synchronous, like pino's own stdout destination: the last lines before a crash are not lost. */
function prettyStream(): DestinationStream {
  return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/** Loggers bound to a request whose span is not the active one when they log (after the response). */
const correlated = new WeakMap<object, SpanContext>();

/** Lines `logger` writes carry this span's ids whenever no other span is active (a request's logger). */
export function correlateLogger(logger: object, spanContext: SpanContext): void {
  correlated.set(logger, spanContext);
}

/**
 * `trace_id` and `span_id` of the active span (tracing on, inside a traced request) or of the logger's
 * request, so log lines and traces join; nothing when tracing is off.
 */
function traceFields(_merge: object, _level: number, logger: object): Record<string, string> {
  const active = trace.getActiveSpan()?.spanContext();
  const spanContext = active && trace.isSpanContextValid(active) ? active : correlated.get(logger);
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

function baseOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: { req: serializeRequest },
    mixin: traceFields,
  };
}

/** pino options shared by the API (as Fastify's `logger`) and the worker; at a terminal, a pretty stream. */
export function loggerOptions(level: LogLevel): HookflowLoggerOptions {
  return prettyLogs() ? { ...baseOptions(level), stream: prettyStream() } : baseOptions(level);
}

/** The worker's logger: to `destination` (tests capture lines), else as `loggerOptions` says. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const to = destination ?? (prettyLogs() ? prettyStream() : undefined);
  return to ? pino(baseOptions(level), to) : pino(baseOptions(level));
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `x-request-id` is kept when it looks like an id (so traces join up), otherwise a fresh UUID. */
export function requestId(req: { headers: IncomingMessage['headers'] }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
