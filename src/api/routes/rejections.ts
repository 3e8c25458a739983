import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REJECTIONS_KEPT, REJECTION_REASONS } from '../../observability/rejections';

const rejectionSchema = z.object({
  at: z.string().describe('when the refusal was sent (ISO 8601)'),
  source: z.string().describe('the configured source id, or (unknown)'),
  reason: z.enum(REJECTION_REASONS),
  status: z.number().int(),
  clientAddress: z.string().describe('as the API sees it: the peer, or the client named by a trusted proxy'),
  requestId: z.string().describe('x-request-id of the refused request, as in the log'),
  message: z.string().describe('why, in one line; never the body, headers or credentials'),
});

/** `GET /api/rejections`: the latest refused webhooks of this API process (behind the admin token). */
export const rejectionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/rejections',
    {
      schema: {
        tags: ['webhooks'],
        summary: `The last ${REJECTIONS_KEPT} refused webhooks of this API process, newest first`,
        response: {
          200: z.object({
            since: z.string().describe('when this process started keeping them (a restart starts empty)'),
            kept: z.number().int().describe('how many are kept at most'),
            rejections: z.array(rejectionSchema),
          }),
        },
      },
    },
    async () => {
      const log = app.webhookRejections;
      return { since: log.since.toISOString(), kept: log.capacity, rejections: log.list() };
    },
  );
};
