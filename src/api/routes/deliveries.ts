import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { deliveryAttempts } from '../../temporal/attempts';
import { deliveryStatus, retryDelivery } from '../../temporal/deliveries';
import { retryDeliveryNow } from '../../temporal/retry-now';

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

/** One attempt of the attempt log (src/shared/delivery.ts `AttemptRecord`). */
const attemptView = z.object({
  attempt: z.number().describe('1 for the first attempt; a retried (reset) delivery counts again from 1'),
  startedAt: z.string().describe('ISO-8601, when the request was sent'),
  durationMs: z.number(),
  eventId: z.string(),
  webhookId: z.string().optional().describe('the webhook-id header sent (standard-webhooks)'),
  outcome: z.enum(['delivered', 'retry', 'stop']),
  httpStatus: z.number().optional().describe("the receiver's HTTP status; absent when there was no answer"),
  statusText: z.string().optional(),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('allowlisted response headers: content-type, retry-after, x-request-id, location, date, ...'),
  body: z
    .object({
      bytes: z.number().describe('size of the body as read'),
      encoding: z.enum(['text', 'base64']),
      content: z.string().describe('the first 4 KiB, as text or (binary) base64'),
      truncated: z.boolean(),
    })
    .optional(),
  failureType: z.string().optional().describe('Http503, ConnectionError, SsrfRefused, ...'),
  error: z.string().optional().describe('why there was no answer, in words: "connection failed (connection refused)"'),
});

const attemptsView = z.object({
  id: z.string(),
  runId: z.string(),
  workflowStatus: z.string(),
  subscriptionId: z.string().nullable(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
  attempts: z.array(attemptView).describe('every attempt, oldest first'),
  pending: z
    .object({
      attempt: z.number().describe('the running attempt, or the next one while it waits'),
      state: z.enum(['scheduled', 'started', 'cancel-requested', 'paused', 'unknown']),
      nextAttemptAt: z.string().nullable(),
      lastAttemptAt: z.string().nullable(),
      lastFailure: z.string().nullable(),
      expiresAt: z.string().nullable().describe('when the retry window ends'),
    })
    .nullable()
    .describe('the delivery activity while the delivery runs'),
  failure: z.string().nullable().describe("the delivery's final failure, once it failed"),
  filterError: z
    .string()
    .nullable()
    .describe('the content filter failed on the event: nothing was sent (status filtered-error), and why'),
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

  app.get(
    '/api/deliveries/:id/attempts',
    {
      schema: {
        tags: ['deliveries'],
        summary:
          "Every attempt of one delivery: time, duration, the receiver's status, headers and body (first 4 KiB), or the error",
        params: idParams,
        querystring: z.object({
          runId: z.string().uuid().optional().describe('a run of a retried delivery; default the latest'),
        }),
        response: { 200: attemptsView },
      },
    },
    async (request) => deliveryAttempts(client, request.params.id, request.query.runId),
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

  app.post(
    '/api/deliveries/:id/retry-now',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Send the next attempt of a delivery in backoff now (attempt numbers go on); 409 when not in backoff',
        params: idParams,
        response: { 202: z.object({ id: z.string() }) },
      },
    },
    async (request, reply) => {
      await retryDeliveryNow(client, request.params.id);
      return reply.status(202).send({ id: request.params.id });
    },
  );
};
