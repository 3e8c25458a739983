import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const status = z.object({ status: z.string(), temporal: z.string().optional() });

/** `/healthz`: the process is alive (always on the API port: it reveals nothing). */
export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', { schema: { summary: 'Liveness', response: { 200: status } } }, async () => ({ status: 'ok' }));
};

/** `/readyz`: Temporal answers, so webhooks can be accepted (an ops route: src/api/routes/ops.ts). */
export const readinessRoutes: FastifyPluginAsyncZod<{ client: Client }> = async (app, { client }) => {
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: Temporal reachable', response: { 200: status, 503: status } } },
    async (_request, reply) => {
      try {
        await client.withDeadline(Date.now() + 2000, () => client.workflowService.getSystemInfo({}));
        return { status: 'ready', temporal: 'reachable' };
      } catch {
        return reply.status(503).send({ status: 'not-ready', temporal: 'unreachable' });
      }
    },
  );
};
