import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import { emptyCounts, type BulkRetryCounts } from '../shared/bulk-retry';
import { resetFailedRun } from '../temporal/deliveries';

export interface BulkRetryDeps {
  config: HookflowConfig;
  client: Client;
}

export interface BulkRetryPageInput {
  /** Visibility query of the failed runs (bulkRetryQuery). */
  query: string;
  /** Runs that closed at or after this (ISO) were started after the job began: never retried by it. */
  cutoff: string;
  jobId: string;
  pageToken?: string;
}

export interface BulkRetryPageResult extends BulkRetryCounts {
  nextPageToken?: string;
  lastError?: string;
}

/** What the activity heartbeats: how far into its page it got and what it counted so far. */
interface PagePosition {
  done: number;
  counts: BulkRetryCounts;
  lastError?: string;
}

const PAGE_SIZE = 100;
/** Latest-run states the bulk retry starts again: those of a delivery that ran out of attempts. */
const BULK_RETRYABLE = new Set(['FAILED', 'TIMED_OUT']);
/** Deliveries of a page handled side by side; the heartbeat records each finished chunk. */
const CHUNK = 10;

type Outcome = Exclude<keyof BulkRetryCounts, 'matched'>;

/**
 * The bulk retry's one activity: a page of the failed runs its query lists, each retried only if the
 * delivery's LATEST run (describe without run id) did not deliver, is not running and closed before the
 * job began. The reset is keyed by the failed run (src/temporal/deliveries.ts resetRequestId), so a
 * delivery listed twice, a page run again or two jobs at once start at most one new run per failure.
 * It heartbeats its position after every chunk: a worker killed mid-page resumes after the last chunk.
 */
export function createBulkRetryActivities({ config, client }: BulkRetryDeps) {
  const namespace = config.temporal.namespace;

  async function retryOne(workflowId: string, cutoffMs: number, jobId: string): Promise<Outcome> {
    let latest;
    try {
      latest = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'skippedRetried'; // gone (retention) since it was listed
      throw err;
    }
    const status = latest.status.name;
    if (status === 'RUNNING') return 'skippedRunning';
    if (status === 'COMPLETED') return 'skippedDelivered';
    // Terminated or cancelled since (an operator stopped it, a lane skipped it): on purpose, left alone.
    if (!BULK_RETRYABLE.has(status)) return 'skippedRetried';
    if ((latest.closeTime?.getTime() ?? 0) >= cutoffMs) return 'skippedRetried';
    await resetFailedRun(client, namespace, workflowId, latest.runId, `bulk retry ${jobId}`);
    return 'retried';
  }

  return {
    async retryFailedPage(input: BulkRetryPageInput): Promise<BulkRetryPageResult> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as PagePosition | undefined;
      const position: PagePosition = resumed ?? { done: 0, counts: emptyCounts() };
      const response = await client.workflowService.listWorkflowExecutions({
        namespace,
        query: input.query,
        pageSize: PAGE_SIZE,
        nextPageToken: input.pageToken ? Buffer.from(input.pageToken, 'base64') : undefined,
      });
      const ids = (response.executions ?? []).map((e) => e.execution?.workflowId ?? '').filter(Boolean);
      const cutoffMs = Date.parse(input.cutoff);
      // A delivery failed, retried and failed again is listed once per failed run: handled once per page
      // here, and across pages its latest run is newer than the cutoff.
      const seen = new Set<string>();
      for (let i = position.done; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const outcomes = await Promise.all(
          chunk.map(async (id) => {
            if (seen.has(id)) return 'skippedRetried' as const;
            seen.add(id);
            try {
              return await retryOne(id, cutoffMs, input.jobId);
            } catch (err) {
              position.lastError = `${id}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
              log.warn('bulk retry: delivery not retried', { workflowId: id, error: position.lastError });
              return 'errors' as const;
            }
          }),
        );
        for (const outcome of outcomes) {
          position.counts.matched += 1;
          position.counts[outcome] += 1;
        }
        position.done = Math.min(i + CHUNK, ids.length);
        ctx.heartbeat(position);
      }
      // Earlier chunks of a resumed page were not seen in this attempt: ids before `done` are not in `seen`,
      // which is harmless (their latest run is newer than the cutoff or running).
      const token = response.nextPageToken?.length ? Buffer.from(response.nextPageToken).toString('base64') : undefined;
      return {
        ...position.counts,
        ...(position.lastError ? { lastError: position.lastError } : {}),
        ...(token ? { nextPageToken: token } : {}),
      };
    },
  };
}
