import {
  CancellationScope,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  LANE_MEMO,
  enqueueSignal,
  laneStateQuery,
  skipHeadSignal,
  type LaneInput,
  type LaneItem,
  type LaneMemo,
  type LaneState,
} from '../shared/lane';
import { SA } from '../shared/search-attributes';
import type { Activities } from '../activities';
import { executeLaneDelivery } from './handoff';

const { earlierInboundPending } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '10 seconds' },
});
/** Default of `delivery.ordering.maxHold` for lanes started before it existed. */
const DEFAULT_MAX_HOLD_MS = 35 * 60_000;

/** Delivery ids remembered against duplicate enqueues (a reset or retried inbound workflow signals again). */
const RECENT = 1_000;
/** Continue-as-new well before Temporal's own suggestion: a lane's history stays short to replay. */
const HISTORY_LIMIT = 5_000;
/** Waiting ids shown in the memo (the query returns them all). */
const MEMO_WAITING = 20;

/**
 * `lane/<subscriptionId>/<entity>`: the deliveries of one subscription about one entity, one at a time.
 * Each runs as the ordinary delivery child workflow (same id, retries, Web UI and API as without
 * ordering) and the lane waits for it to end before it starts the next. The queue is kept in the order
 * hookflow accepted the events; each waits until it is `settleMs` old, so an earlier event whose
 * inbound workflow hands off a moment later still goes first, and then until no earlier inbound
 * workflow of its entity (of a type the subscription takes) still runs (at most `maxHoldMs`): an event
 * being enriched for minutes, or one a backlogged worker has not reached yet, keeps its place. A
 * delivery that finally fails (its retry policy exhausted) stays Failed and retryable like any other,
 * and the lane goes on with the next. An operator can skip a head that holds the lane (signal
 * `skipHead`): the head is cancelled (Cancelled, status `skipped`, retryable) and the next one runs.
 * Idle for `idleMs`, the lane ends; the next event starts it again.
 *
 * Signals at the end: the lane returns (or continues as new) only from a workflow task in which its
 * queue is empty (resp. carried over) and every handler has finished. A signal that reaches the server
 * while that task runs makes the server refuse the completion; the task runs again with the signal
 * applied first, so an enqueued delivery is never dropped. A signal that arrives after the lane closed
 * fails at the sender, which then starts the lane anew (src/workflows/handoff.ts, enqueueInLane).
 */
export async function laneWorkflow(input: LaneInput): Promise<{ delivered: number; failed: number }> {
  const { subscriptionId, entity, settleMs, idleMs } = input;
  const maxHoldMs = input.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;
  const laneId = workflowInfo().workflowId;
  const queue: LaneItem[] = [];
  const recent: string[] = [...(input.recent ?? [])];
  let head: string | undefined;
  let headSince: string | undefined;
  /** The head's scope: cancelled by skipHead. */
  let headScope: CancellationScope | undefined;
  let skipping: string | undefined;
  let lastSkip: LaneMemo['lastSkip'];
  let delivered = input.delivered ?? 0;
  let failed = input.failed ?? 0;
  let skipped = input.skipped ?? 0;
  /** The head whose look back found nothing pending (checked once per head). */
  let cleared: string | undefined;
  let holdPolls = 0;

  const known = (id: string) => id === head || recent.includes(id) || queue.some((item) => item.workflowId === id);
  const enqueue = (item: LaneItem) => {
    if (known(item.workflowId)) return;
    // Stable insertion by acceptance time: equal times keep the order they reached the lane in.
    const at = queue.findIndex((queued) => queued.acceptedAt > item.acceptedAt);
    queue.splice(at === -1 ? queue.length : at, 0, item);
  };
  input.queue.forEach(enqueue);
  setHandler(enqueueSignal, enqueue);
  const state = (): LaneState => ({
    head,
    headSince,
    waiting: queue.map((item) => item.workflowId),
    delivered,
    failed,
    skipped,
  });
  setHandler(laneStateQuery, state);

  const publish = (status: 'delivering' | 'waiting' | 'idle') => {
    upsertSearchAttributes([{ key: SA.status, value: status }]);
    const { waiting, ...rest } = state();
    const memo: LaneMemo = {
      ...rest,
      entity,
      waitingCount: waiting.length,
      waiting: waiting.slice(0, MEMO_WAITING),
      ...(lastSkip ? { lastSkip } : {}),
    };
    upsertMemo({ [LANE_MEMO]: memo });
  };

  // Only a head that runs can be skipped, and only the one named: a late signal skips nothing else.
  setHandler(skipHeadSignal, ({ delivery, reason }) => {
    if (!head || !headScope || (delivery && delivery !== head) || skipping === head) {
      log.info('lane: skipHead ignored, not the running head', { delivery, head });
      return;
    }
    skipping = head;
    lastSkip = { delivery: head, reason: reason || 'skipped by an operator', at: new Date().toISOString() };
    log.warn('lane: skipping the head', { ...lastSkip });
    headScope.cancel();
  });

  for (;;) {
    if (queue.length === 0) {
      publish('idle');
      if (await condition(() => queue.length > 0, idleMs)) continue;
      await condition(allHandlersFinished);
      if (queue.length > 0) continue;
      return { delivered, failed };
    }
    const next = queue[0]!;
    const wait = Math.min(settleMs, Date.parse(next.acceptedAt) + settleMs - Date.now());
    if (wait > 0) {
      publish('waiting');
      await sleep(wait); // events that arrive meanwhile are sorted in; the head is chosen again
      continue;
    }
    // Look back: an earlier event of this entity whose inbound workflow still runs goes first.
    if (cleared !== next.workflowId) {
      if (Date.now() - Date.parse(next.acceptedAt) < maxHoldMs) {
        const pending = await earlierInboundPending({ subscriptionId, entity, eventId: next.input.event.id });
        if (pending.length) {
          publish('waiting');
          holdPolls += 1;
          await condition(() => queue[0] !== next, Math.min(500 * 2 ** Math.min(holdPolls, 6), 30_000));
          continue;
        }
      } else {
        log.warn('lane: earlier events still pending after maxHold, sending the head', { workflowId: next.workflowId });
      }
      cleared = next.workflowId;
      holdPolls = 0;
      if (queue[0] !== next) continue; // an earlier event arrived meanwhile
    }
    queue.shift();
    head = next.workflowId;
    headSince = new Date().toISOString();
    recent.push(head);
    if (recent.length > RECENT) recent.splice(0, recent.length - RECENT);
    publish('delivering');
    // The head runs in its own scope so skipHead can cancel it (and wait until it has ended).
    const scope = (headScope = new CancellationScope());
    try {
      await scope.run(() => executeLaneDelivery(next, laneId));
      delivered += 1;
    } catch (err) {
      if (skipping === next.workflowId && (isCancellation(err) || err instanceof ChildWorkflowFailure)) {
        // Skipped: the delivery ended Cancelled (retryable); later events go on.
        skipped += 1;
        log.warn('lane: head skipped, continuing with the next', { workflowId: next.workflowId });
      } else if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Ran before (an inbound workflow reset after this lane forgot it): not sent twice.
        log.info('lane: delivery exists already, not sent again', { workflowId: next.workflowId });
      } else if (err instanceof ChildWorkflowFailure) {
        // Retry policy exhausted: the delivery stays Failed (retryable); later events go on.
        failed += 1;
        log.warn('lane: delivery failed, continuing with the next', { workflowId: next.workflowId });
      } else {
        throw err;
      }
    }
    head = undefined;
    headSince = undefined;
    headScope = undefined;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_LIMIT) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof laneWorkflow>({
        subscriptionId,
        entity,
        settleMs,
        idleMs,
        maxHoldMs,
        queue: [...queue],
        recent,
        delivered,
        failed,
        skipped,
      });
    }
  }
}
