import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { subscriptionIdSchema, transformSchema } from '../../subscriptions/schema';
import type { SubscriptionStore } from '../../subscriptions/store';
import { tryTransform } from '../../temporal/transform-try';

const tried = z.object({
  eventId: z.string(),
  eventType: z.string(),
  deliveryId: z.string(),
  result: z.union([
    z.object({ ok: z.literal(true), body: z.unknown(), headers: z.record(z.string(), z.string()), bytes: z.number() }),
    z.object({ ok: z.literal(false), error: z.string(), position: z.number().nullable() }),
  ]),
});

/**
 * `POST /api/subscriptions/:id/transform/try`: runs a transformation (saved or not) on a recent real event
 * of the subscription, or on `eventId`. 200 with the body and headers; 422 with the error and its position
 * when it fails on the event; 400 (with the position) when it is not valid JSONata.
 */
export const transformTryRoutes: FastifyPluginAsyncZod<{ client: Client; store: SubscriptionStore }> = async (
  app,
  { client, store },
) => {
  app.post(
    '/api/subscriptions/:id/transform/try',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Try a transformation on a recent real event of the subscription (nothing is saved or sent)',
        params: z.object({ id: subscriptionIdSchema }),
        body: z.strictObject({ transform: transformSchema, eventId: z.string().min(1).max(1000).optional() }),
        response: { 200: tried, 422: tried },
      },
    },
    async (request, reply) => {
      await store.get(request.params.id); // 404 for an unknown subscription
      const result = await tryTransform(client, request.params.id, request.body.transform, request.body.eventId);
      return reply.status(result.result.ok ? 200 : 422).send(result);
    },
  );
};
