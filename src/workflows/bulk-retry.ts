import {
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { keywordValue } from '../shared/bounded';
import {
  BULK_RETRY_MEMO,
  bulkRetryProgressQuery,
  bulkRetryQuery,
  emptyCounts,
  type BulkRetryInput,
  type BulkRetryProgress,
} from '../shared/bulk-retry';
import { FailureType } from '../shared/failure-types';
import { SA } from '../shared/search-attributes';

// A page of 100 deliveries takes seconds; the heartbeat shows a killed worker within 30 s, and the
// retried activity resumes from its last heartbeat.
const { retryFailedPage } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumInterval: '30 seconds' },
});

/** Continue-as-new between pages once the history is this long (a page: about 6 events). */
const HISTORY_LIMIT = 5_000;

/**
 * `bulk-retry/<subscriptionId>/<jobId>`: retries the subscription's failed deliveries the filters match,
 * page by page through visibility, each only if its latest run did not deliver (an old failed run of a
 * delivery retried and delivered since is skipped) and at most once (resets keyed by the failed run).
 * Progress: the `progress` query, the `bulkRetry` memo and the result.
 */
export async function bulkRetryWorkflow(input: BulkRetryInput): Promise<BulkRetryProgress> {
  const { subscriptionId, filters } = input;
  // Kept over continue-as-new: runs that close after the job began are never its to retry.
  const cutoff = input.cutoff ?? workflowInfo().startTime.toISOString();
  const jobId = workflowInfo().workflowId.split('/').at(-1) ?? '';
  const progress: BulkRetryProgress = input.progress ?? { ...emptyCounts(), pages: 0, done: false };
  setHandler(bulkRetryProgressQuery, () => progress);
  const publish = () => {
    upsertMemo({ [BULK_RETRY_MEMO]: { subscriptionId, filters, cutoff, ...progress } });
    upsertSearchAttributes([
      { key: SA.subscription, value: keywordValue(subscriptionId) },
      { key: SA.status, value: progress.done ? 'done' : 'retrying' },
    ]);
  };
  publish();

  let query: string;
  try {
    query = bulkRetryQuery(subscriptionId, filters ?? {}, cutoff);
  } catch (err) {
    // Input from the CLI has not been through the API's schema.
    throw ApplicationFailure.create({
      type: FailureType.InvalidBulkRetry,
      message: `bulk retry filters: ${(err as Error).message}`,
      nonRetryable: true,
    });
  }
  let pageToken = input.pageToken;
  do {
    const page = await retryFailedPage({ query, cutoff, jobId, pageToken });
    progress.matched += page.matched;
    progress.retried += page.retried;
    progress.skippedDelivered += page.skippedDelivered;
    progress.skippedRunning += page.skippedRunning;
    progress.skippedRetried += page.skippedRetried;
    progress.errors += page.errors;
    if (page.lastError) progress.lastError = page.lastError;
    progress.pages += 1;
    pageToken = page.nextPageToken;
    publish();
    if (pageToken && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT)) {
      await continueAsNew<typeof bulkRetryWorkflow>({ ...input, cutoff, pageToken, progress });
    }
  } while (pageToken);

  progress.done = true;
  publish();
  return progress;
}
