import type { FastifyInstance } from 'fastify';
import { guarded } from '../plugins/session';

/** Refused webhooks (bad credentials, bodies, unknown sources, rate limits) as the API process keeps them. */
export async function rejectionRoutes(app: FastifyInstance) {
  app.get('/console/rejections', guarded, async (_request, reply) => {
    const log = app.webhookRejections;
    return reply.consolePage('rejections', {
      title: 'Refused webhooks',
      since: log.since.toISOString(),
      kept: log.capacity,
      rejections: log.list(),
      csrf: reply.generateCsrf(),
    });
  });
}
