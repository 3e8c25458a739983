import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { HookflowError } from '../../errors';

declare module 'fastify' {
  interface FastifyReply {
    /** The console's 404 page. */
    consoleNotFound(): FastifyReply;
  }
}

/** The layout's navigation and sign-out form (with its CSRF token) for a signed-in operator. */
const layoutOf = (reply: FastifyReply) =>
  reply.request.consoleSession ? { signedIn: true, csrf: reply.generateCsrf() } : { signedIn: false };

const CSRF_CODES = new Set(['FST_CSRF_INVALID_TOKEN', 'FST_CSRF_MISSING_SECRET']);

/**
 * HTML error pages for the console, in its layout: thrown errors (typed ones keep their status and
 * message, anything else is a 500 that names nothing internal) and unknown /console addresses. The error
 * handler is set on the console's scope (fastify-plugin), the not-found one on its /console prefix
 * (`reply.consoleNotFound()` for a route that finds nothing to serve).
 */
export const consoleErrors = fp(
  async (app) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error instanceof HookflowError ? error.statusCode : (error.statusCode ?? 500);
      if (status >= 500) request.log.error({ err: error }, 'console error');
      const message = CSRF_CODES.has(error.code)
        ? 'The form expired or did not come from this console. Go back, reload and try again.'
        : status >= 500
          ? 'Something went wrong; the details are in the API log.'
          : error.message;
      return reply.consolePage('error', { title: 'Error', status, message, ...layoutOf(reply) }, status);
    });

    app.decorateReply('consoleNotFound', function (this: FastifyReply) {
      return this.consolePage(
        'error',
        {
          title: 'Page not found',
          status: 404,
          message: 'There is no console page at this address.',
          ...layoutOf(this),
        },
        404,
      );
    });

    await app.register(
      async (scope: FastifyInstance) => {
        scope.setNotFoundHandler(async (_request, reply) => reply.consoleNotFound());
      },
      { prefix: '/console' },
    );
  },
  { name: 'console-errors', dependencies: ['console-pages', 'console-sessions'] },
);
