import { createHash } from 'node:crypto';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type Long from 'long';
import { ConflictError, NotFoundError } from '../errors';
import { SA } from '../shared/search-attributes';
import { FIRST_FAILURE_MEMO, FIRST_RETRY_AT_MEMO } from '../shared/delivery';
import { failureMessage } from './data-converter';

/**
 * Delivery workflows as the API and the console see them through a Temporal client: one described,
 * a subscription's latest listed, failures counted, a failed one retried (a reset).
 */

/** Closed states a delivery can be retried from. */
export const RETRYABLE = new Set(['FAILED', 'TERMINATED', 'TIMED_OUT', 'CANCELLED']);

/** One delivery as `GET /api/deliveries/:id` shows it. */
export interface DeliveryStatus {
  id: string;
  runId: string;
  workflowStatus: string;
  status: string | null;
  subscriptionId: string | null;
  eventType: string | null;
  eventId: string | null;
  attempts: number | null;
  lastHttpStatus: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  startedAt: string;
  closedAt: string | null;
}

/** One row of a subscription's latest deliveries. */
export interface DeliveryRow {
  id: string;
  runId: string;
  workflowStatus: string;
  status: string | null;
  eventType: string | null;
  attempts: number | null;
  lastHttpStatus: number | null;
  nextAttemptAt: string | null;
  startedAt: string;
  closedAt: string | null;
  retryable: boolean;
}

/** Visibility query of one subscription's deliveries (ids are validated by subscriptionIdSchema: no quotes). */
export const deliveriesQuery = (subscriptionId: string) =>
  `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = '${subscriptionId}'`;

/** Temporal's description of a delivery workflow; NotFoundError when there is none. */
export async function describeDelivery(client: Client, id: string) {
  try {
    return await client.workflow.getHandle(id).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`delivery "${id}" does not exist`);
    throw err;
  }
}

/**
 * After a failed local first attempt, until the second (src/workflows/delivery.ts): the delivery waits on a
 * timer with no pending activity, and its memo says when the next attempt starts.
 */
export function firstRetryAt(d: WorkflowExecutionDescription): string | undefined {
  const at = d.memo?.[FIRST_RETRY_AT_MEMO];
  const waiting = !d.raw.pendingActivities?.length && d.status.name === 'RUNNING';
  return waiting && typeof at === 'string' && Date.parse(at) > Date.now() ? at : undefined;
}

/** Status, attempts and last answer or error of one delivery. */
export async function deliveryStatus(client: Client, id: string): Promise<DeliveryStatus> {
  const d = await describeDelivery(client, id);
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
  // A content filter that failed on the event: the reason is in the delivery's memo (src/shared/delivery-start.ts).
  if (typeof d.memo?.filterError === 'string') lastError = `content filter failed: ${d.memo.filterError}`;
  // Waiting after a failed local first attempt: the memo has the failure too.
  const firstRetry = firstRetryAt(d);
  if (firstRetry && !lastError && typeof d.memo?.[FIRST_FAILURE_MEMO] === 'string')
    lastError = d.memo[FIRST_FAILURE_MEMO];
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
    nextAttemptAt: nextAttempt ? new Date(Number(nextAttempt) * 1000).toISOString() : (firstRetry ?? null),
    startedAt: d.startTime.toISOString(),
    closedAt: d.closeTime?.toISOString() ?? null,
  };
}

/**
 * The reset's request id, derived from the failed run it starts again: Temporal answers a reset whose
 * request id created the current run with that run instead of a new one. Two Retry clicks, a repeated
 * API call or two bulk retries of the same failure therefore start ONE new run, and a stale retry of a
 * run retried since cannot terminate the running retry (which would send the event twice).
 */
export function resetRequestId(workflowId: string, failedRunId: string): string {
  const h = createHash('sha256').update(`hookflow-retry\n${workflowId}\n${failedRunId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Resets one failed run to its first workflow task, keyed by that run (resetRequestId). Reads only the
 * first events of its history, not the whole attempt log. Returns the run the delivery now has.
 */
export async function resetFailedRun(
  client: Client,
  namespace: string,
  workflowId: string,
  runId: string,
  reason: string,
): Promise<string> {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace,
    execution: { workflowId, runId },
    maximumPageSize: 10,
  });
  const firstTask = history.history?.events?.find(
    (event) => event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  )?.eventId;
  if (firstTask === undefined || firstTask === null)
    throw new ConflictError('delivery has no completed workflow task to reset to');
  const response = await client.workflowService.resetWorkflowExecution({
    namespace,
    workflowExecution: { workflowId, runId },
    workflowTaskFinishEventId: firstTask as Long,
    reason,
    requestId: resetRequestId(workflowId, runId),
  });
  return response.runId ?? '';
}

/**
 * Retries a failed delivery: its LATEST run, only when that did not deliver and is not running (a reset
 * keyed by that run, so a repeated or concurrent call starts no second run). The API's retry and the
 * console's Retry button.
 */
export async function retryDelivery(
  client: Client,
  namespace: string,
  id: string,
  reason: string,
): Promise<{ runId: string }> {
  const d = await describeDelivery(client, id);
  if (!RETRYABLE.has(d.status.name))
    throw new ConflictError(
      `delivery is ${d.status.name}; only failed, timed-out, terminated or cancelled deliveries can be retried`,
    );
  return { runId: await resetFailedRun(client, namespace, id, d.runId, reason) };
}

/** The latest `limit` deliveries of a subscription, newest first; running ones are described for their next attempt. */
export async function latestDeliveries(client: Client, subscriptionId: string, limit = 50): Promise<DeliveryRow[]> {
  const rows: DeliveryRow[] = [];
  for await (const w of client.workflow.list({ query: deliveriesQuery(subscriptionId), pageSize: limit })) {
    rows.push({
      id: w.workflowId,
      runId: w.runId,
      workflowStatus: w.status.name,
      status: w.typedSearchAttributes.get(SA.status) ?? null,
      eventType: w.typedSearchAttributes.get(SA.eventType) ?? null,
      attempts: w.typedSearchAttributes.get(SA.attempts) ?? null,
      lastHttpStatus: w.typedSearchAttributes.get(SA.httpStatus) ?? null,
      nextAttemptAt: null,
      startedAt: w.startTime.toISOString(),
      closedAt: w.closeTime?.toISOString() ?? null,
      retryable: RETRYABLE.has(w.status.name),
    });
    if (rows.length >= limit) break;
  }
  rows.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  // A retried delivery is one workflow with two runs (the failed one and the reset one): show the current.
  const current = new Map<string, DeliveryRow>();
  for (const row of rows) {
    const seen = current.get(row.id);
    if (!seen || rank(row) > rank(seen)) current.set(row.id, row);
  }
  rows.splice(0, rows.length, ...rows.filter((r) => current.get(r.id) === r));
  await Promise.all(
    rows
      .filter((r) => r.workflowStatus === 'RUNNING')
      .map(async (r) => {
        const d = await client.workflow
          .getHandle(r.id, r.runId)
          .describe()
          .catch(() => undefined);
        const pending = d?.raw.pendingActivities?.[0];
        // Describe reads the workflow's current state; visibility (the list above) may trail it, by
        // seconds on SQL visibility, so a running row takes its status and last answer from here.
        if (d) {
          r.status = d.typedSearchAttributes.get(SA.status) ?? r.status;
          r.lastHttpStatus = d.typedSearchAttributes.get(SA.httpStatus) ?? r.lastHttpStatus;
          r.attempts = d.typedSearchAttributes.get(SA.attempts) ?? r.attempts;
        }
        // `attempt` is the number of the running or the next attempt: while it waits, one fewer were made.
        if (pending?.attempt) {
          const made =
            pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
              ? pending.attempt
              : pending.attempt - 1;
          r.attempts = Math.max(r.attempts ?? 0, made) || null;
        }
        const next = pending?.scheduledTime?.seconds;
        if (next) r.nextAttemptAt = new Date(Number(next) * 1000).toISOString();
        else if (d) r.nextAttemptAt = firstRetryAt(d) ?? null;
      }),
  );
  return rows;
}

/** Running first, then the latest to close. */
const rank = (r: DeliveryRow) => (r.workflowStatus === 'RUNNING' ? '~' : (r.closedAt ?? ''));
