import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { readForm } from '../form';
import { pageOfPost, safeNextPath } from '../next-path';
import { COOKIE_OPTIONS, FORM_BODY_LIMIT } from './security';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session id of a signed-in operator, null otherwise. */
    consoleSession: string | null;
  }
}

const SESSION_COOKIE = 'hookflow_console';
const SESSION_TTL_MS = 8 * 3600_000;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const signInPage = (
  reply: FastifyReply,
  { next = null, error = null, flash = null }: { next?: string | null; error?: string | null; flash?: string | null },
  status = 200,
) =>
  reply.consolePage(
    'login',
    { title: 'Sign in', csrf: reply.generateCsrf(), signedIn: false, error, flash, next: next ?? '' },
    status,
  );

/**
 * Every console page and fragment but sign-in and the static assets needs a session (`onRequest`).
 * A page without one goes to sign-in; a form posted without one (the session expired while the page
 * was open) gets the sign-in form, which then returns to the page the form was posted from.
 */
export async function signedIn(request: FastifyRequest, reply: FastifyReply) {
  if (request.consoleSession) return;
  if (request.method === 'GET') return reply.redirect('/console/login', 303);
  return signInPage(reply, { next: pageOfPost(request), flash: 'Your session ended: sign in again to go on.' }, 401);
}

/** Route options of a page: signed in. */
export const guarded = { onRequest: signedIn };

/** Route options of a form post: signed in, and the CSRF token, checked once the body is parsed (preHandler). */
export const posted = (app: FastifyInstance) => ({
  onRequest: signedIn,
  preHandler: app.csrfProtection,
  bodyLimit: FORM_BODY_LIMIT,
});

/**
 * Sessions (in this process: sign in again after a restart; the cookie carries a random id only),
 * sign-in with the admin token and sign-out. `request.consoleSession` is shared with the console's
 * routes, hence fastify-plugin.
 */
export const consoleSessions = fp(
  async (app, { adminToken }: { adminToken: string }) => {
    const adminTokenHash = sha256(adminToken);
    const sessions = new Map<string, number>();

    app.decorateRequest('consoleSession', null);
    app.addHook('onRequest', async (request) => {
      const raw = request.cookies[SESSION_COOKIE];
      if (!raw) return;
      const unsigned = request.unsignCookie(raw);
      if (!unsigned.valid || !unsigned.value) return;
      const expires = sessions.get(unsigned.value);
      if (!expires || expires < Date.now()) {
        sessions.delete(unsigned.value);
        return;
      }
      request.consoleSession = unsigned.value;
    });

    app.get('/console/login', async (request, reply) => {
      const next = safeNextPath((request.query as { next?: unknown }).next);
      if (request.consoleSession) return reply.redirect(next ?? '/console', 303);
      return signInPage(reply, { next });
    });

    // Guessing the token: 10 sign-in posts per minute per client address (the console's own @fastify/rate-limit).
    const signInLimit = { rateLimit: { max: 10, timeWindow: 60_000 } };
    app.post(
      '/console/login',
      { preHandler: app.csrfProtection, bodyLimit: 16 * 1024, config: signInLimit },
      async (request, reply) => {
        const { values } = readForm(request.body);
        const next = safeNextPath(values.next);
        if (!timingSafeEqual(sha256(values.token ?? ''), adminTokenHash)) {
          request.log.warn('console sign-in with a wrong token');
          return signInPage(reply, { next, error: 'That is not the admin token.' }, 401);
        }
        const id = randomBytes(32).toString('base64url');
        sessions.set(id, Date.now() + SESSION_TTL_MS);
        void reply.setCookie(SESSION_COOKIE, id, { ...COOKIE_OPTIONS, maxAge: SESSION_TTL_MS / 1000 });
        return reply.redirect(next ?? '/console', 303);
      },
    );

    app.post('/console/logout', posted(app), async (request, reply) => {
      if (request.consoleSession) sessions.delete(request.consoleSession);
      void reply.clearCookie(SESSION_COOKIE, { path: '/console' });
      return reply.redirect('/console/login', 303);
    });
  },
  { name: 'console-sessions', dependencies: ['console-security', 'console-pages'] },
);
