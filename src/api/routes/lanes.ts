import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import type { SubscriptionStore } from '../../subscriptions/store';
import { listLanes, skipLaneHead } from '../../temporal/lanes';

const laneView = z.object({
  entity: z.string(),
  laneId: z.string(),
  runId: z.string(),
  head: z.string().nullable(),
  headSince: z.string().nullable(),
  headAttempts: z.number().nullable(),
  headLastHttpStatus: z.number().nullable(),
  headLastError: z.string().nullable(),
  headNextAttemptAt: z.string().nullable(),
  waitingCount: z.number(),
  waiting: z.array(z.string()),
  delivered: z.number(),
  failed: z.number(),
  skipped: z.number(),
});

const tags = ['lanes'];

/**
 * `/api/subscriptions/:id/lanes`: an ordered subscription's lanes that hold a head delivery or waiting
 * events (the longest held first), and skip-head, which lets a lane held by a failing head move on.
 */
export const laneRoutes: FastifyPluginAsyncZod<{ client: Client; store: SubscriptionStore }> = async (
  app,
  { client, store },
) => {
  app.get(
    '/api/subscriptions/:id/lanes',
    {
      schema: {
        tags,
        summary: 'Lanes of an ordered subscription that are waiting',
        params: z.object({ id: subscriptionIdSchema }),
        response: { 200: z.object({ lanes: z.array(laneView) }) },
      },
    },
    async (request) => {
      await store.get(request.params.id);
      return { lanes: await listLanes(client, request.params.id) };
    },
  );

  app.post(
    '/api/subscriptions/:id/lanes/:entity/skip-head',
    {
      schema: {
        tags,
        summary: "Skip the lane's head delivery (cancelled, retryable later); the lane goes on with the next event",
        params: z.object({ id: subscriptionIdSchema, entity: z.string().min(1) }),
        body: z.object({ reason: z.string().max(500).optional() }).nullish(),
        response: { 202: z.object({ laneId: z.string(), delivery: z.string() }) },
      },
    },
    async (request, reply) => {
      const { id, entity } = request.params;
      await store.get(id);
      const reason = request.body?.reason ?? 'skipped via POST /api/subscriptions/:id/lanes/:entity/skip-head';
      return reply.status(202).send(await skipLaneHead(client, id, entity, reason));
    },
  );
};
