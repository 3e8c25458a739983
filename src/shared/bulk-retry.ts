import { defineQuery } from '@temporalio/workflow';
import { boundedWorkflowId } from './bounded';

/**
 * Contract of the bulk retry: retries a subscription's failed deliveries that match some filters, each at
 * most once. `bulk-retry/<subscriptionId>/<jobId>` is the business key (the job id is a hash of the
 * filters and a key), so the same request is the same job. Only deliveries whose LATEST run did not
 * deliver are retried: an old failed run of a delivery retried and delivered since is skipped.
 */

export interface BulkRetryFilters {
  /** Deliveries that failed (closed) at or after this instant, ISO-8601. */
  from?: string;
  /** ...and before this one. */
  to?: string;
  /** Only these outbound event types, exactly as delivered (`shop.OrderPaid`). */
  eventTypes?: string[];
  /** Only deliveries whose last answer had this HTTP status. */
  httpStatus?: number;
}

export interface BulkRetryInput {
  subscriptionId: string;
  filters: BulkRetryFilters;
  /**
   * ISO-8601: only runs that closed before it are considered (the job's start). A delivery this job
   * retried that fails again closes after it, so it is never retried twice by the same job.
   */
  cutoff?: string;
  /** Carried over continue-as-new. */
  pageToken?: string;
  progress?: BulkRetryProgress;
}

export interface BulkRetryCounts {
  /** Failed runs the filters matched (a delivery retried before and failed again has more than one). */
  matched: number;
  /** Deliveries started again (a reset of their latest, failed run). */
  retried: number;
  /** The latest run delivered (retried and delivered since the listed failure). */
  skippedDelivered: number;
  /** The latest run is running (being retried, or waiting for its next attempt). */
  skippedRunning: number;
  /** The latest run closed after the job began (retried already, by this job or another), or was stopped on purpose (terminated, cancelled). */
  skippedRetried: number;
  /** Could not be described or reset (see `lastError`). */
  errors: number;
}

export interface BulkRetryProgress extends BulkRetryCounts {
  pages: number;
  done: boolean;
  lastError?: string;
}

/** The workflow's signature, for the client side (which must not import workflow code). */
export type BulkRetryWorkflow = (input: BulkRetryInput) => Promise<BulkRetryProgress>;

export const emptyCounts = (): BulkRetryCounts => ({
  matched: 0,
  retried: 0,
  skippedDelivered: 0,
  skippedRunning: 0,
  skippedRetried: 0,
  errors: 0,
});

/** Job ids are hex hashes (src/temporal/bulk-retry.ts). */
export const BULK_RETRY_JOB_PATTERN = /^[a-f0-9]{8,64}$/;
/** A client-supplied key: the same key and filters are the same job. */
export const BULK_RETRY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;
/** Event types as delivered: quoted into a visibility query, so no quotes or blanks. */
export const BULK_RETRY_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const bulkRetryWorkflowId = (subscriptionId: string, jobId: string) =>
  boundedWorkflowId(`bulk-retry/${subscriptionId}/${jobId}`);
export const bulkRetryProgressQuery = defineQuery<BulkRetryProgress>('progress');
/** Memo key of the job's filters and progress (Web UI, describe without a worker). */
export const BULK_RETRY_MEMO = 'bulkRetry';

/** An ISO instant as visibility compares it; throws on anything else (it is quoted into a query). */
function instant(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`not an ISO-8601 instant: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/**
 * The visibility query of the failed runs of one subscription's deliveries that the filters match, closed
 * before `cutoff`. Subscription ids and event types are validated by their patterns (no quotes).
 */
export function bulkRetryQuery(subscriptionId: string, filters: BulkRetryFilters, cutoff: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(subscriptionId)) throw new Error('not a subscription id');
  const parts = [
    `WorkflowType = 'deliveryWorkflow'`,
    `HookflowSubscription = '${subscriptionId}'`,
    `ExecutionStatus = 'Failed'`,
    `CloseTime < '${instant(cutoff)}'`,
  ];
  if (filters.from) parts.push(`CloseTime >= '${instant(filters.from)}'`);
  if (filters.to) parts.push(`CloseTime < '${instant(filters.to)}'`);
  if (filters.eventTypes?.length) {
    if (!filters.eventTypes.every((t) => BULK_RETRY_TYPE_PATTERN.test(t))) throw new Error('not an event type');
    parts.push(`HookflowEventType IN (${filters.eventTypes.map((t) => `'${t}'`).join(', ')})`);
  }
  if (filters.httpStatus !== undefined) {
    if (!Number.isInteger(filters.httpStatus)) throw new Error('not an HTTP status');
    parts.push(`HookflowHttpStatus = ${filters.httpStatus}`);
  }
  return parts.join(' AND ');
}
