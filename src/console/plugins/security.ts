import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';

/** Whole form posts; one field is capped lower (form.ts MAX_FIELD_CHARS). */
export const FORM_BODY_LIMIT = 256 * 1024;

/** The session and CSRF cookies: signed, HttpOnly, SameSite=Strict, sent to /console only. */
export const COOKIE_OPTIONS = {
  path: '/console',
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: 'auto' as const,
  signed: true,
};

/**
 * Security headers (a strict CSP), signed cookies, CSRF tokens, the form-body parser and sign-in rate
 * limiting. Wrapped with fastify-plugin so the decorators (`csrfProtection`, `generateCsrf`,
 * `unsignCookie`) and hooks reach the console's routes, and stop at the console's own scope.
 */
export const consoleSecurity = fp(
  async (app) => {
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      // The console is served over http on a laptop too; HSTS is the TLS terminator's business.
      strictTransportSecurity: false,
      // The Referer reaches this origin only: a form posted after the session ended returns to its page.
      referrerPolicy: { policy: 'same-origin' },
    });
    await app.register(cookie, { secret: randomBytes(32).toString('base64') });
    await app.register(csrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: 'hookflow_console_csrf',
      cookieOpts: COOKIE_OPTIONS,
    });
    await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });
    // Scoped to the console (global: false): only routes with a rateLimit config are limited.
    await app.register(rateLimit, { global: false });
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('cache-control', 'no-store');
    });
  },
  { name: 'console-security' },
);
