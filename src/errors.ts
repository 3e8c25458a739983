/**
 * Typed errors shared by the API and its helpers. The API's single error handler maps each to a status
 * code; anything else becomes a generic 500 that says nothing about internals.
 */
export class HookflowError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidPayloadError extends HookflowError {
  constructor(message: string, details?: unknown) {
    super(message, 400, 'invalid_payload', details);
  }
}

export class UnauthorizedError extends HookflowError {
  constructor(message: string) {
    super(message, 401, 'unauthorized');
  }
}

export class NotFoundError extends HookflowError {
  constructor(message: string) {
    super(message, 404, 'not_found');
  }
}

export class ConflictError extends HookflowError {
  constructor(message: string) {
    super(message, 409, 'conflict');
  }
}

/** Well-formed, but Temporal refuses to take it (too large, say): retrying cannot help. */
export class UnprocessableError extends HookflowError {
  constructor(message: string) {
    super(message, 422, 'unprocessable');
  }
}

/** Temporal did not durably accept the work in time: the caller should retry. */
export class UnavailableError extends HookflowError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
    override readonly cause?: unknown,
  ) {
    super(message, 503, 'unavailable');
  }
}

/** Over a documented maximum (notifications per request, codec payloads): retrying the same request cannot help. */
export class PayloadTooLargeError extends HookflowError {
  constructor(message: string) {
    super(message, 413, 'payload_too_large');
  }
}

/** A media type or charset hookflow does not read. */
export class UnsupportedMediaTypeError extends HookflowError {
  constructor(message: string) {
    super(message, 415, 'unsupported_media_type');
  }
}

/** A rate limit: the caller may retry after `retryAfterSeconds`. */
export class RateLimitedError extends HookflowError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 429, 'rate_limited');
  }
}

/**
 * The `error` code of a response by its status, when no typed error above chose one (Fastify's own
 * client errors, 404 for unknown routes); also the `reason` label of rejected webhooks in the metrics.
 */
const STATUS_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'unavailable',
};

export function errorCodeOf(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'client_error');
}
