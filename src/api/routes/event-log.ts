import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { eventDetail, listEvents } from '../../temporal/event-log';
import { DELIVERY_STATUSES, INBOUND_STATUSES, MAX_PAGE_SIZE, parseEventSearch } from '../../temporal/event-log-query';

const searchQuery = z.object({
  entity: z.string().optional().describe('order number, orderId, article number...: exact'),
  source: z.string().optional().describe('source id'),
  type: z.string().optional().describe('event type (extend-commerce.OrderCreated), or a prefix ending in * (shop.*)'),
  status: z
    .string()
    .optional()
    .describe(`inbound (${INBOUND_STATUSES.join(', ')}) or delivery (${DELIVERY_STATUSES.join(', ')})`),
  subscription: z.string().optional().describe('events with a delivery to this subscription'),
  from: z.string().optional().describe('received at or after (ISO-8601; UTC without a zone)'),
  to: z.string().optional().describe('received before (ISO-8601; UTC without a zone)'),
  pageSize: z.string().optional().describe(`1 to ${MAX_PAGE_SIZE}, default 50`),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
});

const delivery = z.object({
  workflowId: z.string(),
  runId: z.string(),
  subscriptionId: z.string().nullable(),
  status: z.string().nullable(),
  workflowStatus: z.string(),
  attempts: z.number().nullable(),
  lastHttpStatus: z.number().nullable(),
  startedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  consoleUrl: z.string(),
  apiUrl: z.string(),
});

const row = z.object({
  eventId: z.string(),
  workflowId: z.string().nullable(),
  runId: z.string().nullable(),
  source: z.string().nullable(),
  type: z.string().nullable(),
  entity: z.string().nullable(),
  warehouse: z.string().nullable(),
  goodsOwner: z.number().nullable(),
  status: z.string().nullable(),
  workflowStatus: z.string().nullable(),
  receivedAt: z.string().nullable(),
  deliveries: z.array(delivery),
});

const detail = row.extend({
  reason: z.string().nullable(),
  closedAt: z.string().nullable(),
  notification: z.unknown(),
  followUp: z.unknown(),
  followUpUrl: z.string().nullable(),
  followUpFetchedAt: z.string().nullable(),
});

const workflowIdParams = z.object({
  workflowId: z.string().regex(/^inbound\//, 'an inbound workflow id (inbound/<source>/<key>), URL-encoded'),
});

/** `GET /api/events` (the event log, cursor-paginated) and `GET /api/events/:workflowId` (one event in full). */
export const eventLogRoutes: FastifyPluginAsyncZod<{ client: Client }> = async (app, { client }) => {
  app.get(
    '/api/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'Inbound events and their deliveries, newest first, by entity, source, type, status, subscription, time',
        querystring: searchQuery,
        response: { 200: z.object({ events: z.array(row), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => listEvents(client, parseEventSearch(request.query)),
  );

  app.get(
    '/api/events/:workflowId',
    {
      schema: {
        tags: ['events'],
        summary: 'One inbound event: the notification (decoded), its follow-up data, status and deliveries',
        params: workflowIdParams,
        response: { 200: detail },
      },
    },
    async (request) => eventDetail(client, request.params.workflowId),
  );
};
