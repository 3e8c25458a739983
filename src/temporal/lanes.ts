import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ConflictError, NotFoundError } from '../errors';
import { LANE_MEMO, laneWorkflowId, skipHeadSignal, type LaneMemo } from '../shared/lane';
import { SA } from '../shared/search-attributes';
import { deliveryStatus } from './deliveries';

/**
 * Lanes of an ordered subscription (`ordering: entity`) as the API and the console see them: which are
 * held by a head delivery and for how long, and skipHead, which lets the lane move on. Read from
 * visibility and describe (the lane's memo), never a query: a query waits for a workflow task.
 */

/** One lane with a head or waiting deliveries. */
export interface LaneView {
  entity: string;
  laneId: string;
  runId: string;
  /** The delivery the lane waits for now; null while the next one settles. */
  head: string | null;
  /** When the head was started. */
  headSince: string | null;
  headAttempts: number | null;
  headLastHttpStatus: number | null;
  headLastError: string | null;
  headNextAttemptAt: string | null;
  waitingCount: number;
  waiting: string[];
  delivered: number;
  failed: number;
  skipped: number;
}

/** Running lanes of a subscription (ids are validated by subscriptionIdSchema: no quotes). */
export const lanesQuery = (subscriptionId: string) =>
  `WorkflowType = 'laneWorkflow' AND HookflowSubscription = '${subscriptionId}' AND ExecutionStatus = 'Running'`;

/** The running lanes of a subscription that hold a head or waiting deliveries, the longest held first (100 at most). */
export async function listLanes(client: Client, subscriptionId: string, limit = 100): Promise<LaneView[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: lanesQuery(subscriptionId), pageSize: limit })) {
    ids.push(w.workflowId);
    if (ids.length >= limit) break;
  }
  const lanes = await Promise.all(ids.map((id) => describeLane(client, id).catch(() => undefined)));
  return lanes
    .filter((lane): lane is LaneView => !!lane && (lane.head !== null || lane.waitingCount > 0))
    .sort((a, b) => (a.headSince ?? '~').localeCompare(b.headSince ?? '~'));
}

/** One lane from its memo (Temporal's current state), with its head's attempts and last failure. */
async function describeLane(client: Client, laneId: string): Promise<LaneView | undefined> {
  const d = await client.workflow.getHandle(laneId).describe();
  if (d.status.name !== 'RUNNING') return undefined;
  const memo = (d.memo?.[LANE_MEMO] ?? {}) as Partial<LaneMemo>;
  const head = memo.head ?? null;
  const status = head ? await deliveryStatus(client, head).catch(() => undefined) : undefined;
  return {
    entity: memo.entity ?? d.typedSearchAttributes.get(SA.entity) ?? '',
    laneId,
    runId: d.runId,
    head,
    headSince: head ? (memo.headSince ?? status?.startedAt ?? null) : null,
    headAttempts: status?.attempts ?? null,
    headLastHttpStatus: status?.lastHttpStatus ?? null,
    headLastError: status?.lastError ?? null,
    headNextAttemptAt: status?.nextAttemptAt ?? null,
    waitingCount: memo.waitingCount ?? 0,
    waiting: memo.waiting ?? [],
    delivered: memo.delivered ?? 0,
    failed: memo.failed ?? 0,
    skipped: memo.skipped ?? 0,
  };
}

/**
 * Signals the lane of (subscription, entity) to skip its running head, named so a lane that has moved
 * on meanwhile skips nothing else; `expected` (the head the operator saw) must still be the head. The lane cancels the head delivery (it ends Cancelled, status
 * `skipped`, retryable) and goes on with the next event.
 */
export async function skipLaneHead(
  client: Client,
  subscriptionId: string,
  entity: string,
  reason: string,
  expected?: string,
): Promise<{ laneId: string; delivery: string }> {
  const laneId = laneWorkflowId(subscriptionId, entity);
  const handle = client.workflow.getHandle(laneId);
  let d;
  try {
    d = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no lane for entity "${entity}"`);
    throw err;
  }
  if (d.status.name !== 'RUNNING') throw new ConflictError(`the lane of "${entity}" is not running`);
  const head = (d.memo?.[LANE_MEMO] as Partial<LaneMemo> | undefined)?.head;
  if (!head) throw new ConflictError(`the lane of "${entity}" has no head delivery running`);
  if (expected && expected !== head)
    throw new ConflictError(`the lane of "${entity}" has moved on: its head is now ${head}`);
  await client.workflow.getHandle(laneId, d.runId).signal(skipHeadSignal, { delivery: head, reason });
  return { laneId, delivery: head };
}
