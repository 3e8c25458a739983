import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HookflowError, RateLimitedError, UnavailableError, errorCodeOf } from '../errors';

/**
 * The one place that turns errors into responses: typed errors keep their status and message, Fastify's
 * own client errors (413, 415, bad JSON, schema validation) keep theirs, and anything else is a generic
 * 500 that names nothing internal (the details go to the log only). The code sent is kept on the reply
 * (`reply.errorCode`) for the webhook metrics.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.decorateReply('errorCode', null);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const send = (status: number, body: { error: string; message: string; details?: unknown }) => {
      reply.errorCode = body.error;
      return reply.status(status).send(body);
    };
    if (error instanceof HookflowError) {
      if (error instanceof UnavailableError) {
        request.log.warn({ err: error }, 'temporal unavailable');
        void reply.header('retry-after', String(error.retryAfterSeconds));
      }
      if (error instanceof RateLimitedError) void reply.header('retry-after', String(error.retryAfterSeconds));
      return send(error.statusCode, { error: error.code, message: error.message, details: error.details });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((v) => ({ path: v.instancePath || '/', message: v.message }));
      // The first problem in the message too, so that a client showing only the message says what to fix.
      const first = details[0] ? `: ${details[0].path}: ${details[0].message}` : '';
      const more = details.length > 1 ? ` (and ${details.length - 1} more in details)` : '';
      return send(400, {
        error: 'invalid_request',
        message: `request ${error.validationContext ?? ''} is invalid${first}${more}`.replace('  ', ' '),
        details,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return send(status, { error: errorCodeOf(status), message: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(500, { error: errorCodeOf(500), message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.errorCode = 'not_found';
    void reply
      .status(404)
      .send({ error: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}

declare module 'fastify' {
  interface FastifyReply {
    /** The `error` code of an error response sent by the error handler. */
    errorCode: string | null;
  }
}
