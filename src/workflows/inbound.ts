import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { coalesceSignal, type CoalesceInput, type CoalesceItem } from '../shared/coalesce';
import { keywordValue } from '../shared/bounded';
import { deliverySearchAttributes } from '../shared/delivery-start';
import { filterRejection } from '../shared/filter';
import { enqueueSignal, laneWorkflowId, type LaneItem } from '../shared/lane';
import type {
  EnrichedEvent,
  InboundEvent,
  InboundStatus,
  InboundWorkflowInput,
  InboundWorkflowResult,
} from '../shared/inbound';
import type { DeliveryInput, OutboundEvent, PlannedDelivery } from '../shared/delivery';
import { SA } from '../shared/search-attributes';
import type { coalesceWorkflow } from './coalesce';
import type { deliveryWorkflow } from './delivery';
import type { laneWorkflow } from './lane';

const fanOutRetry = { startToCloseTimeout: '1 minute', retry: { maximumInterval: '30 seconds' } } as const;
// Runs before deliveries were child workflows: an activity that started them through the client.
const { fanOut } = proxyActivities<Activities>(fanOutRetry);
// Fan-out as a local activity (no task dispatch, no history events of its own): it reads subscriptions
// with describe only, never with a query, so it never waits for a workflow task (see planDeliveries).
const local = proxyLocalActivities<Activities>(fanOutRetry);
// ...and a regular one for the rare subscription whose state is not in its memo yet (read with a query).
const regular = proxyActivities<Activities>(fanOutRetry);

/** Follow-up fetch: retried with backoff for up to 30 minutes, then the event ends as follow-up-failed. */
const { fetchFollowUp } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

function setStatus(status: InboundStatus): void {
  upsertSearchAttributes([{ key: SA.status, value: status }]);
}

/** One notification from a source: filter, fetch the follow-up data, hand the enriched event on. */
export async function inboundWorkflow(input: InboundWorkflowInput): Promise<InboundWorkflowResult> {
  const { event, filter, followUp } = input;

  const rejection = filterRejection(event, filter);
  if (rejection) {
    setStatus('filtered');
    log.info('event filtered out', { reason: rejection });
    return { status: 'filtered', reason: rejection };
  }

  const enriched: EnrichedEvent = { event };
  if (followUp.kind === 'unavailable') {
    setStatus('follow-up-failed');
    return { status: 'follow-up-failed', reason: followUp.reason, enriched };
  }
  if (followUp.kind === 'fetch') {
    setStatus('fetching');
    try {
      enriched.followUp = await fetchFollowUp({ sourceId: event.sourceId, url: followUp.url });
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      const failure = cause instanceof ApplicationFailure ? cause : undefined;
      if (failure?.type === 'FollowUpNotFound') {
        setStatus('follow-up-not-found');
        return { status: 'follow-up-not-found', reason: failure.message, enriched };
      }
      setStatus('follow-up-failed');
      return { status: 'follow-up-failed', reason: cause?.message ?? String(err), enriched };
    }
  }

  // Hand-off: one delivery workflow per matching subscription (none may match).
  const outbound = toOutboundEvent(enriched);
  if (!patched('child-deliveries')) {
    const deliveries = await fanOut({ event: outbound });
    setStatus('handed-off');
    return { status: 'handed-off', enriched, deliveries };
  }
  const { planned, unread } = await local.planDeliveries({ event: outbound, query: false });
  if (unread.length)
    planned.push(...(await regular.planDeliveries({ event: outbound, query: true, candidates: unread })).planned);
  await Promise.all(
    planned.map((delivery) =>
      delivery.coalesce
        ? feedCoalescer(delivery, event, outbound)
        : delivery.lane
          ? enqueueInLane(delivery, outbound)
          : startDelivery(delivery, outbound),
    ),
  );
  setStatus('handed-off');
  return {
    status: 'handed-off',
    enriched,
    deliveries: planned.map(({ subscriptionId, workflowId }) => ({ subscriptionId, workflowId })),
  };
}

/**
 * One delivery as a child workflow, `delivery/<eventId>/<subscriptionId>`, that outlives this workflow
 * (ABANDON): started with the workflow task that decided it, no activity and no client round trip. An
 * id that already exists (a reset or retried inbound workflow) is the same delivery: nothing is started twice.
 */
export async function startDelivery(
  { subscriptionId, workflowId, schedule }: PlannedDelivery,
  event: OutboundEvent,
): Promise<void> {
  const args: [DeliveryInput] = [{ subscriptionId, event, schedule }];
  try {
    await startChild<typeof deliveryWorkflow>('deliveryWorkflow', {
      workflowId,
      args,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: deliverySearchAttributes(subscriptionId, event),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Ordered delivery (`ordering: entity`): the delivery joins the lane `lane/<subscription>/<entity>`,
 * which runs it after the earlier ones. A workflow cannot signal-with-start, so: start the lane as an
 * ABANDON child with this delivery as its first item; if it runs already, signal it. If it closed in
 * between (idle end), the signal fails and the lane is started again. Nothing here needs an activity
 * or the client: orchestration stays in workflows.
 */
async function enqueueInLane(
  { subscriptionId, workflowId, schedule, lane }: PlannedDelivery,
  event: OutboundEvent,
): Promise<void> {
  const entity = event.entity!;
  const laneId = laneWorkflowId(subscriptionId, entity);
  const item: LaneItem = { workflowId, acceptedAt: event.occurredAt, input: { subscriptionId, event, schedule } };
  for (let attempt = 1; ; attempt++) {
    try {
      await startChild<typeof laneWorkflow>('laneWorkflow', {
        workflowId: laneId,
        args: [{ subscriptionId, entity, ...lane!, queue: [item] }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: SA.subscription, value: subscriptionId },
          { key: SA.entity, value: keywordValue(entity) },
          { key: SA.lane, value: keywordValue(laneId) },
          { key: SA.status, value: 'waiting' },
        ],
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await getExternalWorkflowHandle(laneId).signal(enqueueSignal, item);
      return;
    } catch (err) {
      // The lane ended between the start and the signal: start it again, at once the first time
      // (every moment here counts against the lane's settle time), with a growing pause after that.
      log.info('lane closed while enqueueing, starting it again', { laneId, attempt, error: String(err) });
      if (attempt > 1) await sleep(Math.min(100 * attempt, 5_000));
    }
  }
}

/**
 * Hands the notification to its coalescer (README "Coalescing stock storms"), `coalesce/<subscription>/<hash>`:
 * signal-with-start done from the workflow, which the TypeScript SDK has no single command for. Signal the
 * running coalescer; if there is none (never started, or its run has just closed), start it as a child
 * (ABANDON) with this notification as its first; if another inbound workflow started it in between
 * (already started), signal again. Each step is a workflow command (no activity, no client).
 */
async function feedCoalescer(
  { subscriptionId, workflowId, schedule, coalesce }: PlannedDelivery,
  event: InboundEvent,
  outbound: OutboundEvent,
): Promise<void> {
  const { windowMs, key, deliveryWorkflowId } = coalesce!;
  const item: CoalesceItem = {
    event: outbound,
    order: { receivedAt: event.receivedAt, position: event.position ?? 0, eventId: outbound.id },
    schedule,
    deliveryWorkflowId,
  };
  for (let round = 1; ; round++) {
    try {
      await getExternalWorkflowHandle(workflowId).signal(coalesceSignal, item);
      return;
    } catch (err) {
      // Not found (no running coalescer): start one below. Anything else after a few rounds fails the task, which is retried.
      if (round > 5) throw err;
    }
    const args: [CoalesceInput] = [{ subscriptionId, key, windowMs, first: item }];
    try {
      await startChild<typeof coalesceWorkflow>('coalesceWorkflow', {
        workflowId,
        args,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: SA.subscription, value: subscriptionId },
          { key: SA.entity, value: keywordValue(Object.values(key).join('/')) },
          { key: SA.eventType, value: keywordValue(outbound.type) },
          { key: SA.status, value: 'coalescing' },
        ],
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}

export function toOutboundEvent({ event, followUp }: EnrichedEvent): OutboundEvent {
  return {
    id: `${event.sourceId}/${event.eventKey}`,
    uuid: event.uuid,
    type: event.sourceKind === 'api' ? event.eventType : `${event.sourceKind}.${event.eventType}`,
    occurredAt: event.receivedAt,
    source: { id: event.sourceId, kind: event.sourceKind },
    entity: event.entity,
    warehouse: event.warehouse,
    goodsOwnerId: event.goodsOwnerId,
    data: event.payload,
    ...(followUp ? { followUp: followUp.data } : {}),
    ...(followUp?.fetchedAt
      ? { fetchedAt: followUp.fetchedAt, followUpSource: { sourceId: event.sourceId, url: followUp.url } }
      : {}),
  };
}
