import { ActivityFailure, ApplicationFailure, log, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { filterRejection } from '../shared/filter';
import type { EnrichedEvent, InboundStatus, InboundWorkflowInput, InboundWorkflowResult } from '../shared/inbound';
import type { OutboundEvent } from '../shared/outbound';
import { SA } from '../shared/search-attributes';

// A regular activity, not a local one: fan-out queries subscription workflows on this task queue, and a
// local activity holds its workflow task (and the worker's slot) open meanwhile. After a worker restart
// with a backlog, every slot was held by a fan-out waiting for a query that needed a slot: a deadlock
// (found by test/faults/crash-recovery.test.ts).
const { fanOut } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumInterval: '30 seconds' } });

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
  const deliveries = await fanOut({ event: toOutboundEvent(enriched) });
  setStatus('handed-off');
  return { status: 'handed-off', enriched, deliveries };
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
  };
}
