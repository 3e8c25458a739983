import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type {
  AttemptFailureDetails,
  AttemptRecord,
  AttemptReport,
  DeliveryAttemptResult,
  DeliveryInput,
} from '../shared/delivery';
import { ATTEMPT_BASE_MEMO, attemptFailedSignal } from '../shared/delivery';
import { NotFoundError } from '../errors';
import { failureMessage } from './data-converter';
import { describeDelivery, firstRetryAt } from './deliveries';

/**
 * A delivery's attempt log, read from the delivery workflow's own history (no query: it needs no worker
 * and answers under load): each failed attempt's record is the payload of its `attemptFailed` signal, the
 * successful one's is in the activity's result. Payloads are decrypted with the client's codec here, for
 * the operator; in Temporal they stay encrypted. The pending attempt (running, or waiting for its next
 * try) comes from describe.
 */

/** The delivery activity's current attempt, while the delivery runs. */
export interface PendingAttempt {
  /** The number of the running attempt, or of the next one while it waits. */
  attempt: number;
  state: 'scheduled' | 'started' | 'cancel-requested' | 'paused' | 'unknown';
  /** When the next attempt starts (state `scheduled` after a failed attempt). */
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  /** The last attempt's failure message (`Http503: receiver answered HTTP 503 Service Unavailable`). */
  lastFailure: string | null;
  /** When the retry window ends (one-day policy). */
  expiresAt: string | null;
}

/** What `GET /api/deliveries/:id/attempts` answers. */
export interface DeliveryAttempts {
  id: string;
  runId: string;
  workflowStatus: string;
  subscriptionId: string | null;
  eventId: string | null;
  eventType: string | null;
  startedAt: string;
  closedAt: string | null;
  /** Every attempt with a record, oldest first. */
  attempts: AttemptRecord[];
  pending: PendingAttempt | null;
  /** The delivery's final failure message, once it failed. */
  failure: string | null;
  /** The content filter failed on the event: nothing was sent (status filtered-error), and this is why. */
  filterError: string | null;
}

const { EventType, PendingActivityState, WorkflowTaskFailedCause } = temporal.api.enums.v1;
/** The marker a local activity's outcome is recorded in (the SDK's core). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

type Timestamp = { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined;
const iso = (ts: Timestamp): string | null => {
  if (!ts?.seconds) return null;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
};

const STATES: Record<number, PendingAttempt['state']> = {
  [PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]: 'scheduled',
  [PendingActivityState.PENDING_ACTIVITY_STATE_STARTED]: 'started',
  [PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED]: 'cancel-requested',
  [PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED]: 'paused',
};

/** Decodes payloads with the client's codecs and payload converter (as the client does for results). */
async function decodeAll(client: Client, payloads: Payload[]): Promise<unknown[]> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payloads;
  for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
  return decoded.map((p) => payloadConverter.fromPayload(p));
}

async function describeRun(client: Client, id: string, runId: string) {
  try {
    return await client.workflow.getHandle(id, runId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`delivery "${id}" has no run "${runId}"`);
    throw err;
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const isLocalMarker = (event: HistoryEvent) =>
  event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER;

/** The run a reset run was reset from (its WorkflowTaskFailed with cause RESET_WORKFLOW). */
function resetBaseRunId(events: HistoryEvent[]): string | undefined {
  for (const event of events) {
    const failed = event.workflowTaskFailedEventAttributes;
    if (failed?.cause === WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW && failed.baseRunId)
      return failed.baseRunId;
  }
  return undefined;
}

/**
 * A retried delivery (a reset) carries its earlier runs' signals, so their regular attempts' reports, but
 * not their local first attempts' markers (after the reset point): those are read from the earlier runs.
 */
async function resetAncestorsLocalMarkers(client: Client, id: string, events: HistoryEvent[]): Promise<HistoryEvent[]> {
  const markers: HistoryEvent[] = [];
  const seen = new Set<string>();
  for (let base = resetBaseRunId(events); base && !seen.has(base) && seen.size < 20;) {
    seen.add(base);
    let earlier: HistoryEvent[];
    try {
      earlier = (await client.workflow.getHandle(id, base).fetchHistory()).events ?? [];
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) break; // past retention
      throw err;
    }
    markers.unshift(...earlier.filter(isLocalMarker));
    base = resetBaseRunId(earlier);
  }
  return markers;
}

/** The attempt log of delivery `id` (its latest run, or `runId`); NotFoundError when there is no such delivery. */
export async function deliveryAttempts(client: Client, id: string, runId?: string): Promise<DeliveryAttempts> {
  const d = runId ? await describeRun(client, id, runId) : await describeDelivery(client, id);
  const run = d.runId;
  const history = await client.workflow.getHandle(id, run).fetchHistory();
  const events = [...(await resetAncestorsLocalMarkers(client, id, history.events ?? [])), ...(history.events ?? [])];

  // Collect first, decode in one codec call.
  const payloads: Payload[] = [];
  const kinds: Array<'input' | 'report' | 'result' | 'local-failure'> = [];
  let failed: temporal.api.failure.v1.IFailure | null | undefined;
  for (const event of events) {
    const started = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const signaled = event.workflowExecutionSignaledEventAttributes;
    // A local activity's result (the first attempt, src/workflows/delivery.ts) is in its marker.
    const marker = event.markerRecordedEventAttributes;
    const completed =
      event.activityTaskCompletedEventAttributes?.result?.payloads?.[0] ??
      (marker?.markerName === LOCAL_ACTIVITY_MARKER ? marker.details?.result?.payloads?.[0] : undefined);
    // A failed local attempt's report is in its failure's details (src/activities/deliver.ts `forWorkflow`).
    const localFailure =
      marker?.markerName === LOCAL_ACTIVITY_MARKER
        ? marker.failure?.applicationFailureInfo?.details?.payloads?.[0]
        : undefined;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED && started) {
      payloads.push(started as Payload);
      kinds.push('input');
    } else if (signaled?.signalName === attemptFailedSignal.name && signaled.input?.payloads?.[0]) {
      payloads.push(signaled.input.payloads[0] as Payload);
      kinds.push('report');
    } else if (localFailure) {
      payloads.push(localFailure as Payload);
      kinds.push('local-failure');
    } else if (
      (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED ||
        event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) &&
      completed
    ) {
      payloads.push(completed as Payload);
      kinds.push('result');
    } else if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED) {
      failed = event.workflowExecutionFailedEventAttributes?.failure;
    }
  }
  const values = await decodeAll(client, payloads);

  let input: DeliveryInput | undefined;
  const attempts: AttemptRecord[] = [];
  values.forEach((value, i) => {
    if (kinds[i] === 'input') input = value as DeliveryInput;
    // Signals from before the attempt log carry no record: nothing to show for them.
    const record =
      kinds[i] === 'report'
        ? (value as AttemptReport)?.record
        : kinds[i] === 'local-failure'
          ? (value as AttemptFailureDetails | undefined)?.report?.record
          : (value as DeliveryAttemptResult | undefined)?.record;
    if (kinds[i] !== 'input' && record) attempts.push(record);
  });
  // History order is arrival order; a reset run carries the earlier run's signals: order by time.
  attempts.sort((a, b) => a.startedAt.localeCompare(b.startedAt));

  const raw = d.raw.pendingActivities?.[0];
  // After a failed local first attempt, before the second: a timer, no pending activity (the memo says until when).
  const firstRetry = firstRetryAt(d);
  const firstBackoff: PendingAttempt | null = firstRetry
    ? {
        attempt: 2,
        state: 'scheduled',
        nextAttemptAt: firstRetry,
        lastAttemptAt: attempts[0]?.startedAt ?? null,
        lastFailure: attempts[0]?.error ?? null,
        expiresAt: null,
      }
    : null;
  const pending: PendingAttempt | null = raw
    ? {
        // Past the first invocation (gate, retry now) the activity's attempt counts from the memo's base.
        attempt: (raw.attempt ?? 1) + (Number(d.memo?.[ATTEMPT_BASE_MEMO]) || 0),
        state: STATES[raw.state ?? -1] ?? 'unknown',
        nextAttemptAt:
          raw.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED ? iso(raw.scheduledTime) : null,
        lastAttemptAt: iso(raw.lastAttemptCompleteTime),
        lastFailure: await failureMessage(client, raw.lastFailure),
        expiresAt: iso(raw.expirationTime),
      }
    : firstBackoff;

  return {
    id,
    runId: run,
    workflowStatus: d.status.name,
    subscriptionId: input?.subscriptionId ?? null,
    eventId: input?.event?.id ?? null,
    eventType: input?.event?.type ?? null,
    startedAt: d.startTime.toISOString(),
    closedAt: d.closeTime?.toISOString() ?? null,
    attempts,
    pending,
    failure: failed ? await failureMessage(client, failed) : null,
    filterError: input?.filterError ?? null,
  };
}

/** The console's page of a delivery's attempts (for links from other pages). */
export const attemptsPagePath = (workflowId: string) => `/console/deliveries/${encodeURIComponent(workflowId)}`;
