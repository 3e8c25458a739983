import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const status = z.object({ status: z.string(), temporal: z.string().optional() });

/** `/healthz`: the process is alive. `/readyz`: Temporal answers, so webhooks can be accepted. */
export const healthRoutes: FastifyPluginAsyncZod<{ client: Client }> = async (app, { client }) => {
  app.get('/healthz', { schema: { summary: 'Liveness', response: { 200: status } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'Readiness: Temporal reachable', response: { 200: status, 503: status } } }, async (_request, reply) => {
    try {
      await client.withDeadline(Date.now() + 2000, () => client.workflowService.getSystemInfo({}));
      return { status: 'ready', temporal: 'reachable' };
    } catch {
      return reply.status(503).send({ status: 'not-ready', temporal: 'unreachable' });
    }
  });
};
