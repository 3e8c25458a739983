import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig } from '../../config/schema';
import { ConflictError } from '../../errors';
import { startDurably } from '../../temporal/start-durably';
import { REPLAY_ID_PATTERN, REPLAY_MEMO, replayWorkflowId, type ReplayInput } from '../../shared/replay';
import { SA } from '../../shared/search-attributes';
import { subscriptionIdSchema, triggerSchema } from '../../subscriptions/schema';
import type { SubscriptionStore } from '../../subscriptions/store';
import type { replayWorkflow } from '../../workflows/replay';

/** Longest range one replay covers. */
const MAX_RANGE_MS = 31 * 24 * 3_600_000;

export const replayRequestSchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).describe('events accepted at or after this instant (ISO-8601)'),
    to: z.iso.datetime({ offset: true }).describe('...and before this one'),
    types: z
      .array(triggerSchema)
      .min(1)
      .max(50)
      .optional()
      .describe(
        'only these event types (as triggers: extend-commerce.OrderCreated, ongoing-wms.*); default all the subscription takes',
      ),
    replayId: z
      .string()
      .regex(REPLAY_ID_PATTERN, 'letters, digits and . _ : - (max 100)')
      .optional()
      .describe(
        'names the replay: the same replayId is the same replay (started once); derived from the other fields when absent',
      ),
  })
  .superRefine((body, ctx) => {
    const from = Date.parse(body.from);
    const to = Date.parse(body.to);
    if (!(from < to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (to - from > MAX_RANGE_MS)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'a replay covers at most 31 days; split it' });
  });

const replayStarted = z.object({ replayId: z.string(), workflowId: z.string(), duplicate: z.boolean() });

/** The same fields, the same replay: `r-` and a hash of the normalised request. */
export function derivedReplayId(body: { from: string; to: string; types?: string[] }): string {
  const key = JSON.stringify([
    new Date(body.from).toISOString(),
    new Date(body.to).toISOString(),
    [...(body.types ?? [])].sort(),
  ]);
  return `r-${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** What makes two requests with the same replayId the same replay; the workflow keeps these fields in its memo. */
function replayParameters(input: ReplayInput) {
  return { subscriptionId: input.subscriptionId, from: input.from, to: input.to, types: input.types ?? null };
}

const normalTypes = (types: string[] | null | undefined) => JSON.stringify(types ? [...types].sort() : null);

function sameParameters(memo: Partial<ReturnType<typeof replayParameters>>, input: ReplayInput): boolean {
  return memo.from === input.from && memo.to === input.to && normalTypes(memo.types) === normalTypes(input.types);
}

/** `POST /api/subscriptions/:id/replay`: starts (once) the replay workflow of a time range. */
export const replayRoutes: FastifyPluginAsyncZod<{
  config: HookflowConfig;
  client: Client;
  store: SubscriptionStore;
}> = async (app, { config, client, store }) => {
  app.post(
    '/api/subscriptions/:id/replay',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Re-deliver the events accepted in a time range (idempotent per replayId)',
        params: z.object({ id: subscriptionIdSchema }),
        body: replayRequestSchema,
        response: {
          202: replayStarted.describe('started'),
          200: replayStarted.describe('the same replay exists already: nothing new is started'),
        },
      },
    },
    async (request, reply) => {
      const subscriptionId = request.params.id;
      await store.get(subscriptionId); // 404 when it does not exist
      const { from, to, types } = request.body;
      const replayId = request.body.replayId ?? derivedReplayId(request.body);
      const workflowId = replayWorkflowId(subscriptionId, replayId);
      const input: ReplayInput = {
        subscriptionId,
        replayId,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        ...(types ? { types } : {}),
      };
      // Bounded: Temporal not taking the start in time is a 503 with Retry-After (the replayId makes a retry safe).
      const started = await startDurably<typeof replayWorkflow>(
        client,
        'replayWorkflow',
        {
          taskQueue: config.temporal.taskQueue,
          workflowId,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: SA.subscription, value: subscriptionId },
            { key: SA.status, value: 'replaying' },
          ],
          // The parameters with the start itself (atomic): a second request with the same replayId is
          // compared against them from the first instant, before the workflow has run a task.
          memo: { [REPLAY_MEMO]: replayParameters(input) },
        },
        config.server.ackTimeout,
      );
      if (started.duplicate) {
        // The same replayId is the same request: with another range or other types it is a mistake.
        const memo = (await client.workflow.getHandle(workflowId).describe()).memo?.[REPLAY_MEMO] as
          Partial<ReturnType<typeof replayParameters>> | undefined;
        // (No memo: a replay started before the parameters were stored with the start; taken as the same.)
        if (memo && !sameParameters(memo, input)) {
          throw new ConflictError(
            `replay "${replayId}" of subscription "${subscriptionId}" exists with another range or other types; use another replayId`,
          );
        }
        return reply.status(200).send({ replayId, workflowId, duplicate: true });
      }
      return reply.status(202).send({ replayId, workflowId, duplicate: false });
    },
  );
};
