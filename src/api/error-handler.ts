import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HookflowError, RateLimitedError, UnavailableError } from '../errors';

/**
 * The one place that turns errors into responses: typed errors keep their status and message, Fastify's
 * own client errors (413, 415, bad JSON, schema validation) keep theirs, and anything else is a generic
 * 500 that names nothing internal (the details go to the log only).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HookflowError) {
      if (error instanceof UnavailableError) {
        request.log.warn({ err: error }, 'temporal unavailable');
        void reply.header('retry-after', String(error.retryAfterSeconds));
      }
      if (error instanceof RateLimitedError) void reply.header('retry-after', String(error.retryAfterSeconds));
      return reply.status(error.statusCode).send({ error: error.code, message: error.message, details: error.details });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((v) => ({ path: v.instancePath || '/', message: v.message }));
      return reply.status(400).send({ error: 'invalid_request', message: `request ${error.validationContext ?? ''} is invalid`.replace('  ', ' '), details });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.status(status).send({ error: clientErrorCode(status), message: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}

function clientErrorCode(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    default:
      return 'client_error';
  }
}
