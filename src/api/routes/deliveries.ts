import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type Long from 'long';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../../errors';
import { SA } from '../../shared/search-attributes';
import { failureMessage } from '../../temporal/data-converter';

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

export const RETRYABLE = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED']);

export async function describeDelivery(client: Client, id: string) {
  try {
    return await client.workflow.getHandle(id).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`delivery "${id}" does not exist`);
    throw err;
  }
}

/** `/api/deliveries/:id`: status, attempts and last response of a delivery; retry of a failed one (a reset). */
export const deliveryRoutes: FastifyPluginAsyncZod<{ client: Client; namespace: string }> = async (
  app,
  { client, namespace },
) => {
  const describe = (id: string) => describeDelivery(client, id);

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
    async (request) => {
      const { id } = request.params;
      const d = await describe(id);
      const pending = d.raw.pendingActivities?.[0];
      // Describe's raw response is not decoded: the message is in the (encrypted) encoded attributes.
      let lastError = await failureMessage(client, pending?.lastFailure);
      if (d.status.name === 'FAILED') {
        lastError = await client.workflow
          .getHandle(id, d.runId)
          .result()
          .then(
            () => null,
            (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)),
          );
      }
      const attempts = Math.max(d.typedSearchAttributes.get(SA.attempts) ?? 0, pending?.attempt ?? 0) || null;
      const nextAttempt = pending?.scheduledTime?.seconds;
      return {
        id,
        runId: d.runId,
        workflowStatus: d.status.name,
        status: d.typedSearchAttributes.get(SA.status) ?? null,
        subscriptionId: d.typedSearchAttributes.get(SA.subscription) ?? null,
        eventType: d.typedSearchAttributes.get(SA.eventType) ?? null,
        eventId: d.typedSearchAttributes.get(SA.eventId) ?? null,
        attempts,
        lastHttpStatus: d.typedSearchAttributes.get(SA.httpStatus) ?? null,
        lastError,
        nextAttemptAt: nextAttempt ? new Date(Number(nextAttempt) * 1000).toISOString() : null,
        startedAt: d.startTime.toISOString(),
        closedAt: d.closeTime?.toISOString() ?? null,
      };
    },
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

/** Resets a failed delivery to its first workflow task: the API's retry and the console's Retry button. */
export async function retryDelivery(client: Client, namespace: string, id: string, reason: string) {
  const d = await describeDelivery(client, id);
  if (!RETRYABLE.has(d.status.name))
    throw new ConflictError(
      `delivery is ${d.status.name}; only failed, timed-out, terminated or cancelled deliveries can be retried`,
    );
  let firstTask: Long | undefined;
  for (const event of (await client.workflow.getHandle(id, d.runId).fetchHistory()).events ?? []) {
    if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      firstTask = event.eventId ?? undefined;
      break;
    }
  }
  if (firstTask === undefined) throw new ConflictError('delivery has no completed workflow task to reset to');
  const response: temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse =
    await client.workflowService.resetWorkflowExecution({
      namespace,
      workflowExecution: { workflowId: id, runId: d.runId },
      workflowTaskFinishEventId: firstTask,
      reason,
      requestId: randomUUID(),
    });
  return response;
}
