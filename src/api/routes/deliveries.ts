import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deliveryStatus, retryDelivery } from '../../temporal/deliveries';

const idParams = z.object({
  id: z
    .string()
    .regex(
      /^(delivery|replay)\//,
      'a delivery workflow id (delivery/<eventId>/<subscriptionId> or replay/<subscriptionId>/<replayId>/<eventId>), URL-encoded',
    ),
});

const deliveryView = z.object({
  id: z.string(),
  runId: z.string(),
  workflowStatus: z.string(),
  status: z.string().nullable(),
  subscriptionId: z.string().nullable(),
  eventType: z.string().nullable(),
  eventId: z.string().nullable(),
  attempts: z.number().nullable(),
  lastHttpStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});

/** `/api/deliveries/:id`: status, attempts and last response of a delivery; retry of a failed one (a reset). */
export const deliveryRoutes: FastifyPluginAsyncZod<{ client: Client; namespace: string }> = async (
  app,
  { client, namespace },
) => {
  app.get(
    '/api/deliveries/:id',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Status of one delivery',
        params: idParams,
        response: { 200: deliveryView },
      },
    },
    async (request) => deliveryStatus(client, request.params.id),
  );

  app.post(
    '/api/deliveries/:id/retry',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Retry a failed delivery (reset to its first workflow task)',
        params: idParams,
        response: { 202: z.object({ id: z.string(), runId: z.string() }) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const response = await retryDelivery(client, namespace, id, 'retry via POST /api/deliveries/:id/retry');
      const runId = response.runId;
      return reply.status(202).send({ id, runId: runId ?? '' });
    },
  );
};
