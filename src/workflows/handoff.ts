import {
  ParentClosePolicy,
  executeChild,
  getExternalWorkflowHandle,
  log,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type SearchAttributePair } from '@temporalio/common';
import { keywordValue } from '../shared/bounded';
import { coalesceSignal, type CoalesceInput, type CoalesceItem, type CoalesceWorkflow } from '../shared/coalesce';
import type { DeliveryWorkflow, OutboundEvent, PlannedDelivery } from '../shared/delivery';
import { deliveryStartOptions, type DeliveryStart } from '../shared/delivery-start';
import type { InboundEvent } from '../shared/inbound';
import { enqueueSignal, laneWorkflowId, type LaneItem, type LaneWorkflow } from '../shared/lane';
import { SA } from '../shared/search-attributes';

/**
 * How an event is handed to its deliveries, from any workflow (inbound, replay, lane, coalescer,
 * subscription test): every start is a workflow command (no activity, no client round trip), every
 * child outlives its starter (ABANDON), and every id is a business key, so a starter that runs again
 * (reset, retried task) starts nothing twice. One exception: the inbound workflow's direct deliveries
 * are started by its planning activity with the client (src/activities/fan-out.ts), with the same
 * options and ids. Started by name with the contract signatures of
 * src/shared, so this module imports no other workflow module.
 */

/** The delivery child's options: the shared start options plus ABANDON (a delivery outlives its starter). */
function deliveryChildOptions(delivery: DeliveryStart, event: OutboundEvent, extra?: SearchAttributePair[]) {
  return { ...deliveryStartOptions(delivery, event, extra), parentClosePolicy: ParentClosePolicy.ABANDON };
}

/**
 * Starts one delivery workflow as a child and returns at once. False when the id exists already (the
 * same delivery, started by an earlier run of the starter): nothing is started twice.
 */
export async function startDelivery(delivery: DeliveryStart, event: OutboundEvent): Promise<boolean> {
  try {
    await startChild<DeliveryWorkflow>('deliveryWorkflow', deliveryChildOptions(delivery, event));
    return true;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return false;
  }
}

/**
 * Runs one delivery of a lane as a child and waits for its end. Throws WorkflowExecutionAlreadyStartedError
 * for an id that exists and ChildWorkflowFailure for a delivery that failed: the lane decides.
 */
export async function executeLaneDelivery(item: LaneItem, laneId: string): Promise<void> {
  const { subscriptionId, event, schedule } = item.input;
  await executeChild<DeliveryWorkflow>(
    'deliveryWorkflow',
    deliveryChildOptions({ subscriptionId, workflowId: item.workflowId, schedule }, event, [
      { key: SA.lane, value: keywordValue(laneId) },
    ]),
  );
}

/** Each planned delivery on its path: the coalescer, the entity's lane, or a delivery started directly. */
export async function handOff(planned: PlannedDelivery[], event: InboundEvent, outbound: OutboundEvent): Promise<void> {
  await Promise.all(
    planned.map((delivery) =>
      delivery.coalesce
        ? feedCoalescer(delivery, event, outbound)
        : delivery.lane
          ? enqueueInLane(delivery, outbound)
          : startDelivery(delivery, outbound),
    ),
  );
}

/**
 * Ordered delivery (`ordering: entity`): the delivery joins the lane `lane/<subscription>/<entity>`,
 * which runs it after the earlier ones. A workflow cannot signal-with-start, so: start the lane as an
 * ABANDON child with this delivery as its first item; if it runs already, signal it. If it closed in
 * between (idle end), the signal fails and the lane is started again.
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
      await startChild<LaneWorkflow>('laneWorkflow', {
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
 * Hands the notification to its coalescer (docs/beyond-delivery.md, "Coalescing stock storms"), `coalesce/<subscription>/<hash>`:
 * signal-with-start done from the workflow, which the TypeScript SDK has no single command for. Signal the
 * running coalescer; if there is none (never started, or its run has just closed), start it as a child
 * (ABANDON) with this notification as its first; if another inbound workflow started it in between
 * (already started), signal again.
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
      await startChild<CoalesceWorkflow>('coalesceWorkflow', {
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
