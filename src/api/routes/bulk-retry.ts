import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig } from '../../config/schema';
import { BULK_RETRY_JOB_PATTERN } from '../../shared/bulk-retry';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import type { SubscriptionStore } from '../../subscriptions/store';
import {
  bulkRetryRequestSchema,
  bulkRetryStatus,
  filtersOf,
  previewBulkRetry,
  startBulkRetry,
} from '../../temporal/bulk-retry';

const filtersView = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  eventTypes: z.array(z.string()).optional(),
  httpStatus: z.number().optional(),
});

const started = z.object({ jobId: z.string(), workflowId: z.string(), duplicate: z.boolean() });
const preview = z.object({
  dryRun: z.literal(true),
  failedRuns: z
    .number()
    .describe('failed runs the filters match now; those whose delivery was delivered or is running since are skipped'),
  filters: filtersView,
});

const progressView = z.object({
  jobId: z.string(),
  workflowId: z.string(),
  workflowStatus: z.string(),
  filters: filtersView,
  matched: z.number().describe('failed runs listed'),
  retried: z.number(),
  skippedDelivered: z.number().describe('latest run delivered: not sent again'),
  skippedRunning: z.number().describe('latest run running: not touched'),
  skippedRetried: z.number().describe('retried already since the job began (by it or anyone), or stopped on purpose'),
  errors: z.number(),
  pages: z.number(),
  done: z.boolean(),
  lastError: z.string().optional(),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});

/** `POST /api/subscriptions/:id/retry` (bulk retry of failed deliveries, or its preview) and its progress. */
export const bulkRetryRoutes: FastifyPluginAsyncZod<{
  config: HookflowConfig;
  client: Client;
  store: SubscriptionStore;
}> = async (app, { config, client, store }) => {
  app.post(
    '/api/subscriptions/:id/retry',
    {
      schema: {
        tags: ['subscriptions'],
        summary:
          'Retry the failed deliveries the filters match, each once and only if it was not delivered since (dryRun: count only)',
        params: z.object({ id: subscriptionIdSchema }),
        body: bulkRetryRequestSchema,
        response: {
          202: started.describe('the job started'),
          200: z.union([started, preview]).describe('the same job exists already (nothing new), or the preview'),
        },
      },
    },
    async (request, reply) => {
      const subscriptionId = request.params.id;
      await store.get(subscriptionId); // 404 when it does not exist
      const filters = filtersOf(request.body);
      if (request.body.dryRun) {
        const { failedRuns } = await previewBulkRetry(client, subscriptionId, filters);
        return reply.status(200).send({ dryRun: true as const, failedRuns, filters });
      }
      const job = await startBulkRetry(client, config, subscriptionId, filters, request.body.key);
      return reply.status(job.duplicate ? 200 : 202).send(job);
    },
  );

  app.get(
    '/api/subscriptions/:id/retry/:jobId',
    {
      schema: {
        tags: ['subscriptions'],
        summary: 'Progress of a bulk retry',
        params: z.object({
          id: subscriptionIdSchema,
          jobId: z.string().regex(BULK_RETRY_JOB_PATTERN, 'a job id as POST /api/subscriptions/:id/retry returned'),
        }),
        response: { 200: progressView },
      },
    },
    async (request) => bulkRetryStatus(client, request.params.id, request.params.jobId),
  );
};
