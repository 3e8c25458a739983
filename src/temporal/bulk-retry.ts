import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { HookflowConfig } from '../config/schema';
import { NotFoundError } from '../errors';
import {
  BULK_RETRY_KEY_PATTERN,
  BULK_RETRY_MEMO,
  BULK_RETRY_TYPE_PATTERN,
  bulkRetryProgressQuery,
  bulkRetryQuery,
  bulkRetryWorkflowId,
  type BulkRetryFilters,
  type BulkRetryInput,
  type BulkRetryProgress,
  type BulkRetryWorkflow,
} from '../shared/bulk-retry';
import { SA } from '../shared/search-attributes';
import { startDurably } from './start-durably';

/**
 * The bulk retry as the API and the console see it: a preview count, the start of the job (the same
 * filters and key are the same job) and its progress.
 */

/** `POST /api/subscriptions/:id/retry`. */
export const bulkRetryRequestSchema = z
  .strictObject({
    status: z.literal('failed').default('failed').describe('only failed deliveries are retried'),
    from: z.iso.datetime({ offset: true }).optional().describe('deliveries that failed at or after this instant'),
    to: z.iso.datetime({ offset: true }).optional().describe('...and before this one'),
    eventTypes: z
      .array(z.string().regex(BULK_RETRY_TYPE_PATTERN, 'an event type as delivered, such as shop.OrderPaid'))
      .min(1)
      .max(50)
      .optional()
      .describe('only these event types, exactly as delivered (no wildcards)'),
    httpStatus: z
      .number()
      .int()
      .min(100, 'an HTTP status from 100 to 599')
      .max(599, 'an HTTP status from 100 to 599')
      .optional()
      .describe("only deliveries whose receiver's last answer had this status"),
    key: z
      .string()
      .regex(BULK_RETRY_KEY_PATTERN, 'letters, digits and . _ : - (max 100)')
      .optional()
      .describe('the same key and filters are the same job; without one, the same request within a minute is'),
    dryRun: z.boolean().default(false).describe('true: only count what the filters match, start nothing'),
  })
  .superRefine((body, ctx) => {
    if (body.from && body.to && !(Date.parse(body.from) < Date.parse(body.to)))
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type BulkRetryRequest = z.output<typeof bulkRetryRequestSchema>;

/** The filters of a request, normalised (instants as UTC ISO, types sorted and unique). */
export function filtersOf(body: Pick<BulkRetryRequest, 'from' | 'to' | 'eventTypes' | 'httpStatus'>): BulkRetryFilters {
  return {
    ...(body.from ? { from: new Date(body.from).toISOString() } : {}),
    ...(body.to ? { to: new Date(body.to).toISOString() } : {}),
    ...(body.eventTypes ? { eventTypes: [...new Set(body.eventTypes)].sort() } : {}),
    ...(body.httpStatus !== undefined ? { httpStatus: body.httpStatus } : {}),
  };
}

/** The job id: a hash of the normalised filters and the key (given, or the minute of the request). */
export function bulkRetryJobId(filters: BulkRetryFilters, key: string | undefined, now = Date.now()): string {
  const bucket = key ?? `minute-${Math.floor(now / 60_000)}`;
  const normal = JSON.stringify([
    filters.from ?? null,
    filters.to ?? null,
    filters.eventTypes ?? null,
    filters.httpStatus ?? null,
    bucket,
  ]);
  return createHash('sha256').update(normal).digest('hex').slice(0, 24);
}

/** How many failed runs the filters match now (a delivery delivered or running since is skipped by the job). */
export async function previewBulkRetry(client: Client, subscriptionId: string, filters: BulkRetryFilters) {
  const { count } = await client.workflow.count(bulkRetryQuery(subscriptionId, filters, new Date().toISOString()));
  return { failedRuns: count };
}

/** Starts the job once: the same id again (running or finished) is the same job. */
export async function startBulkRetry(
  client: Client,
  config: HookflowConfig,
  subscriptionId: string,
  filters: BulkRetryFilters,
  key?: string,
) {
  const jobId = bulkRetryJobId(filters, key);
  const workflowId = bulkRetryWorkflowId(subscriptionId, jobId);
  const input: BulkRetryInput = { subscriptionId, filters, cutoff: new Date().toISOString() };
  const started = await startDurably<BulkRetryWorkflow>(
    client,
    'bulkRetryWorkflow',
    {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SA.subscription, value: subscriptionId },
        { key: SA.status, value: 'retrying' },
      ],
      memo: { [BULK_RETRY_MEMO]: { subscriptionId, filters, cutoff: input.cutoff } },
    },
    config.server.ackTimeout,
  );
  return { jobId, workflowId, duplicate: started.duplicate };
}

export interface BulkRetryStatus extends BulkRetryProgress {
  jobId: string;
  workflowId: string;
  workflowStatus: string;
  filters: BulkRetryFilters;
  startedAt: string;
  closedAt: string | null;
}

/** A job's progress: its `progress` query, or its memo when no worker answers (the memo trails by a page). */
export async function bulkRetryStatus(client: Client, subscriptionId: string, jobId: string): Promise<BulkRetryStatus> {
  const workflowId = bulkRetryWorkflowId(subscriptionId, jobId);
  const handle = client.workflow.getHandle(workflowId);
  let d;
  try {
    d = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`bulk retry "${jobId}" does not exist`);
    throw err;
  }
  const memo = (d.memo?.[BULK_RETRY_MEMO] ?? {}) as Partial<BulkRetryProgress> & { filters?: BulkRetryFilters };
  const queried = await Promise.race([
    handle.query(bulkRetryProgressQuery).catch(() => undefined),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000).unref()),
  ]);
  const p: Partial<BulkRetryProgress> = queried ?? memo;
  return {
    jobId,
    workflowId,
    workflowStatus: d.status.name,
    filters: memo.filters ?? {},
    matched: p.matched ?? 0,
    retried: p.retried ?? 0,
    skippedDelivered: p.skippedDelivered ?? 0,
    skippedRunning: p.skippedRunning ?? 0,
    skippedRetried: p.skippedRetried ?? 0,
    errors: p.errors ?? 0,
    pages: p.pages ?? 0,
    done: p.done ?? false,
    ...(p.lastError ? { lastError: p.lastError } : {}),
    startedAt: d.startTime.toISOString(),
    closedAt: d.closeTime?.toISOString() ?? null,
  };
}
