import { join } from 'node:path';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyReply {
    /** Sends a console template inside the layout; the signed-in navigation unless `signedIn: false`. */
    consolePage(template: string, data: Record<string, unknown>, status?: number): FastifyReply;
  }
}

/** Server-rendered Eta templates (src/console/templates), escaped by default. */
export const consolePages = fp(
  async (app) => {
    const eta = new Eta({ views: join(__dirname, '..', 'templates'), autoEscape: true, cache: true });
    app.decorateReply(
      'consolePage',
      function (this: FastifyReply, template: string, data: Record<string, unknown>, status = 200) {
        return this.status(status)
          .type('text/html; charset=utf-8')
          .send(eta.render(template, { signedIn: true, ...data }));
      },
    );
  },
  { name: 'console-pages' },
);
