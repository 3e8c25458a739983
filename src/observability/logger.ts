import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { HookflowConfig } from '../config/schema';

export type LogLevel = HookflowConfig['logging']['level'];
const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Credentials sources send us (headers) or that configs and subscriptions carry (fields). */
const SECRET_HEADERS = ['authorization', 'cookie', 'ms-signature', 'x-signature', 'x-auth-token', 'webhook-signature'];
const SECRET_FIELDS = ['secret', 'password', 'token', 'clientKey'];

/** `secret`, `*.secret`, `*.*.secret`, `*.*.*.secret` for each field: wildcards only go one level each. */
export const REDACT_PATHS = [
  ...SECRET_HEADERS.map((h) => `req.headers["${h}"]`),
  ...SECRET_FIELDS.flatMap((f) => [0, 1, 2, 3].map((depth) => [...Array<string>(depth).fill('*'), f].join('.'))),
];

/** The Automation API authenticates with `?key=`; Fastify logs the URL, so the value is masked there. */
export function maskKeyParam(url: string): string {
  return url.replace(/([?&]key=)[^&#]*/gi, '$1[Redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: IncomingMessage['headers'];
  socket?: { remotePort?: number };
}

/** Like Fastify's default, plus headers (redacted above): which signature header a source sent is worth seeing. */
function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : maskKeyParam(req.url),
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

/** pino options shared by the API (as Fastify's `logger`) and the worker. */
export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
    serializers: { req: serializeRequest },
  };
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `x-request-id` is kept when it looks like an id (so traces join up), otherwise a fresh UUID. */
export function requestId(req: { headers: IncomingMessage['headers'] }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
