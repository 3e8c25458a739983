import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acceptedAfter,
  coalesceSignal,
  type AcceptanceOrder,
  type CoalesceInput,
  type CoalesceItem,
  type CoalesceResult,
} from '../shared/coalesce';
import { SA } from '../shared/search-attributes';
import { startDelivery } from './handoff';

/**
 * One subscription and one key (`coalesce/<subscriptionId>/<hash>`): collects the notifications the
 * inbound workflows signal to it, and when the window (counted from the first notification of a batch)
 * is over starts ONE normal delivery workflow, `delivery/<eventId>/<subscriptionId>` of the latest
 * notification in acceptance order, carrying `coalesced: { count, replaced }`. Then it finishes if
 * nothing new came in meanwhile, or starts the next batch's window. A signal that reaches the server
 * while this run completes makes Temporal refuse the completion; the SDK then runs the signal's handler
 * first and the loop sees it (count > 0), so nothing accepted is lost; one that arrives after the run
 * closed fails for its sender, which starts a new run (see feedCoalescer in handoff.ts).
 */
export async function coalesceWorkflow(input: CoalesceInput): Promise<CoalesceResult> {
  let latest: CoalesceItem | undefined = input.carried?.latest;
  let count = input.carried?.count ?? 0;
  let delivered: AcceptanceOrder | undefined = input.carried?.delivered;
  let deliveries = input.carried?.deliveries ?? 0;
  let windowEndsAt = input.carried?.windowEndsAt;
  let superseded = 0;

  const accept = (item: CoalesceItem) => {
    // Older than what this run delivered already: delivering it now would replace newer data with older.
    if (delivered && !acceptedAfter(item.order, delivered)) {
      superseded += 1;
      log.info('notification superseded by one delivered already', { eventId: item.event.id });
      return;
    }
    count += 1;
    if (!latest || acceptedAfter(item.order, latest.order)) latest = item;
  };
  setHandler(coalesceSignal, accept);
  if (input.first) accept(input.first);

  while (count > 0) {
    // The window, from the batch's first notification. Every signal carries a whole notification (with its
    // follow-up data): a long window of a big storm may fill the history first, so the batch moves to a new
    // run (same window end) whenever Temporal suggests it.
    windowEndsAt ??= Date.now() + input.windowMs;
    if (await condition(() => workflowInfo().continueAsNewSuggested, Math.max(1, windowEndsAt - Date.now()))) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof coalesceWorkflow>({
        ...input,
        first: undefined,
        carried: { latest, count, delivered, deliveries, windowEndsAt },
      });
    }
    windowEndsAt = undefined;
    const batch = latest!;
    const n = count;
    latest = undefined;
    count = 0;
    await startBatchDelivery(input.subscriptionId, batch, n);
    delivered = batch.order;
    deliveries += 1;
    if (count === 0) upsertSearchAttributes([{ key: SA.status, value: 'flushed' }]);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof coalesceWorkflow>({
        ...input,
        first: undefined,
        carried: { latest, count, delivered, deliveries },
      });
    }
  }
  return { deliveries, superseded };
}

/**
 * The batch's one delivery: the normal delivery workflow (Web UI, retry, API as for any delivery), outliving
 * this workflow. The same notification signalled twice (a reset inbound workflow) and delivered already
 * is the same delivery id: nothing new starts.
 */
async function startBatchDelivery(subscriptionId: string, batch: CoalesceItem, count: number): Promise<void> {
  const event = { ...batch.event, coalesced: { count, replaced: count - 1 } };
  await startDelivery({ subscriptionId, workflowId: batch.deliveryWorkflowId, schedule: batch.schedule }, event);
}
