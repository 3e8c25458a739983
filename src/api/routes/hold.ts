import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SUBSCRIPTION_LIMITS } from '../../shared/subscription-limits';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import { gateState, holdSubscription, releaseSubscription } from '../../temporal/hold';

const tags = ['subscriptions'];
const params = z.object({ id: subscriptionIdSchema });

/** What hold, release and the state answer (src/shared/gate.ts `GateState`). */
const gateStateView = z.object({
  held: z.boolean(),
  since: z.string().optional(),
  by: z.enum(['operator', 'breaker']).optional(),
  waiting: z.number().describe("deliveries waiting at the subscription's gate"),
  inBackoff: z
    .number()
    .optional()
    .describe('held: deliveries in backoff after a failed attempt, to join the waiting at their next attempt'),
  inFlight: z.number().describe('permits out: requests the gate let go and that have not answered yet'),
  rateLimit: z.number().optional(),
  maxInFlight: z.number().optional(),
  nextProbeAt: z.string().optional().describe('held by the breaker: when the next probe goes'),
});

const holdBody = z
  .strictObject({
    reason: z.string().max(SUBSCRIPTION_LIMITS.holdReasonChars).optional(),
    budgetRuns: z
      .boolean()
      .optional()
      .describe("true: time held counts against each delivery's retry window (default: it does not)"),
  })
  .default({});

/** `POST /api/subscriptions/:id/hold` and `/release` (docs/operations.md "Hold and release"). */
export const holdRoutes: FastifyPluginAsyncZod<{ client: Client }> = async (app, { client }) => {
  app.post(
    '/api/subscriptions/:id/hold',
    {
      schema: {
        tags,
        summary: 'Hold a subscription: nothing is sent to it until it is released; deliveries wait',
        params,
        body: holdBody,
        response: { 200: gateStateView },
      },
    },
    async (request) => holdSubscription(client, request.params.id, { by: 'operator', ...request.body }),
  );
  app.post(
    '/api/subscriptions/:id/release',
    {
      schema: {
        tags,
        summary: 'Release a held subscription: waiting deliveries go, oldest first, within its throttle',
        params,
        response: { 200: gateStateView },
      },
    },
    async (request) => releaseSubscription(client, request.params.id, { by: 'operator' }),
  );
  app.get(
    '/api/subscriptions/:id/gate',
    {
      schema: {
        tags,
        summary: 'Held or not, deliveries waiting and permits out',
        params,
        response: { 200: gateStateView },
      },
    },
    async (request) => gateState(client, request.params.id),
  );
};
