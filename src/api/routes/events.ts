import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig } from '../../config/schema';
import type { InboundWorkflowInput } from '../../shared/inbound';
import { SOURCE_KINDS } from '../../sources';
import { eventUuid } from '../../sources/event-uuid';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth';
import { startInbound } from '../../temporal/start-inbound';

const RESERVED = [...SOURCE_KINDS, 'hookflow'];

export const publishEventSchema = z.strictObject({
  type: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*\.[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use <namespace>.<name>, e.g. shop.OrderPaid')
    .refine(
      (type) => !RESERVED.includes(type.split('.')[0]!),
      `the namespaces ${RESERVED.join(', ')} are reserved for hookflow's sources`,
    ),
  data: z
    .record(z.string(), z.unknown())
    .refine((data) => !nestsDeeperThan(data), `nests deeper than ${MAX_JSON_DEPTH} levels`),
  idempotencyKey: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/, 'letters, digits and . _ : - (max 200)')
    .optional(),
  entity: z.string().min(1).optional(),
  warehouse: z.string().min(1).optional(),
  goodsOwnerId: z.number().int().optional(),
});

const publishedSchema = z.object({ eventId: z.string(), workflowId: z.string(), duplicate: z.boolean() });

/** `POST /api/events`: publish an event to the subscriptions; the same idempotency key is the same event. */
export const eventRoutes: FastifyPluginAsyncZod<{ config: HookflowConfig; client: Client }> = async (
  app,
  { config, client },
) => {
  app.post(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Publish an event to matching subscriptions',
        body: publishEventSchema,
        response: { 202: publishedSchema },
      },
    },
    async (request, reply) => {
      const { type, data, idempotencyKey = randomUUID(), entity, warehouse, goodsOwnerId } = request.body;
      const input: InboundWorkflowInput = {
        event: {
          sourceId: 'api',
          sourceKind: 'api',
          eventKey: idempotencyKey,
          uuid: eventUuid(`api/${idempotencyKey}`),
          eventType: type,
          recognised: true,
          entity,
          warehouse,
          goodsOwnerId,
          receivedAt: new Date().toISOString(),
          payload: data,
        },
        filter: {},
        followUp: { kind: 'none' },
      };
      const started = await startInbound(client, config, input);
      return reply.status(202).send({ eventId: `api/${idempotencyKey}`, ...started });
    },
  );
};
