import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import type { SubscriptionStore } from '../../subscriptions/store';
import { DeliveryFiguresCache, subscriptionHealth } from '../../temporal/health';

const rate = z.object({ delivered: z.number(), failed: z.number(), rate: z.number().nullable() });

const healthView = z.object({
  subscriptionId: z.string(),
  state: z.enum(['healthy', 'failing', 'disabled']),
  since: z.string().nullable(),
  inBackoff: z.number(),
  consecutiveFailures: z.number(),
  lastSuccess: z.object({ at: z.string() }).nullable(),
  lastFailure: z.object({ at: z.string(), httpStatus: z.number().nullable(), error: z.string().nullable() }).nullable(),
  successRate: z.object({ lastHour: rate, lastDay: rate }),
  figuresAt: z.string(),
  hold: z
    .object({ since: z.string(), by: z.enum(['operator', 'breaker']), reason: z.string().optional() })
    .nullable()
    .describe('present while the subscription is held (docs/operations.md "Hold and release")'),
});

/** `GET /api/subscriptions/:id/health`: healthy, failing since T or disabled, with the figures behind it. */
export const subscriptionHealthRoutes: FastifyPluginAsyncZod<{ client: Client; store: SubscriptionStore }> = async (
  app,
  { client, store },
) => {
  const figures = new DeliveryFiguresCache(client);
  app.get(
    '/api/subscriptions/:id/health',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Health of a subscription: state, deliveries in backoff, last success and failure, success rates',
        params: z.object({ id: subscriptionIdSchema }),
        response: { 200: healthView },
      },
    },
    async (request) => {
      const subscription = await store.get(request.params.id);
      const { since, by, reason } = subscription.hold ?? {};
      const hold = since && by ? { since, by, ...(reason !== undefined ? { reason } : {}) } : null;
      return { ...(await subscriptionHealth(client, subscription, figures)), hold };
    },
  );
};
