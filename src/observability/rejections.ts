import { HookflowError, errorCodeOf } from '../errors';

/**
 * Why a webhook was refused: the `error` code of the response (src/api/error-handler.ts), kept to this
 * fixed list so that neither the metric's `reason` label nor the list can grow with what callers send.
 */
export const REJECTION_REASONS = [
  'unauthorized',
  'invalid_payload',
  'invalid_request',
  'not_found',
  'unsupported_media_type',
  'payload_too_large',
  'rate_limited',
  'request_timeout',
  'unprocessable',
  'unavailable',
  'internal',
  'client_error',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

const REASONS = new Set<string>(REJECTION_REASONS);

export function rejectionReason(status: number, code: string | null | undefined): RejectionReason {
  if (code && REASONS.has(code)) return code as RejectionReason;
  const byStatus = errorCodeOf(status);
  return REASONS.has(byStatus) ? (byStatus as RejectionReason) : 'client_error';
}

/** The source label of a request to an id that is not configured: any given id would be a label an attacker can mint. */
export const UNKNOWN_SOURCE = '(unknown)';

/** One refused webhook as the operator sees it: never the body, headers or credentials. */
export interface Rejection {
  at: string;
  /** A configured source id, or `(unknown)`. */
  source: string;
  reason: RejectionReason;
  status: number;
  /** As Fastify sees it: the peer, or the client named by a trusted proxy. */
  clientAddress: string;
  requestId: string;
  message: string;
}

export const REJECTIONS_KEPT = 100;
const MESSAGE_CHARS = 200;

/**
 * The message of a refusal in one short line. JSON.parse quotes the body it failed on ("Unexpected token
 * 'x', "{secret..." is not valid JSON"): only its position is kept. Anything but hookflow's own errors
 * at 5xx says nothing about internals.
 */
export function rejectionMessage(error: unknown, status: number): string {
  if (status >= 500 && !(error instanceof HookflowError)) return 'internal error';
  let text = error instanceof Error ? error.message : String(error ?? '');
  if (text.startsWith('body is not valid JSON')) {
    const position = /position (\d+)/.exec(text)?.[1];
    text = `body is not valid JSON${position ? ` (at position ${position})` : ''}`;
  }
  const line = (text.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return line.length > MESSAGE_CHARS ? `${line.slice(0, MESSAGE_CHARS - 1)}…` : line || `HTTP ${status}`;
}

/**
 * The latest refused webhooks of this API process, newest first, in memory (a ring of REJECTIONS_KEPT):
 * each process keeps its own, and a restart starts empty. Counts over time are in the metric.
 */
export class RejectionLog {
  readonly since = new Date();
  private readonly entries: Rejection[] = [];

  constructor(readonly capacity = REJECTIONS_KEPT) {}

  add(rejection: Rejection): void {
    this.entries.push(rejection);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Newest first. */
  list(): Rejection[] {
    return [...this.entries].reverse();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The latest refused webhooks of this process (src/api/plugins/rejections.ts decorates the app with it). */
    webhookRejections: RejectionLog;
  }
}
