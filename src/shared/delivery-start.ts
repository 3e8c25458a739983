import type { SearchAttributePair } from '@temporalio/common';
import { keywordValue } from './bounded';
import type { DeliveryInput, OutboundEvent, PlannedDelivery } from './delivery';
import { SA } from './search-attributes';

/**
 * The search attributes a delivery workflow starts with, written once at its start; the delivery itself
 * upserts only what changes (status, attempts, last HTTP status).
 */
function deliverySearchAttributes(
  subscriptionId: string,
  event: OutboundEvent,
  filterError: string | undefined,
): SearchAttributePair[] {
  return [
    { key: SA.subscription, value: subscriptionId },
    { key: SA.eventType, value: keywordValue(event.type) },
    { key: SA.eventId, value: keywordValue(event.id) },
    { key: SA.status, value: filterError === undefined ? 'delivering' : 'filtered-error' },
    ...(event.entity !== undefined ? [{ key: SA.entity, value: keywordValue(event.entity) }] : []),
  ];
}

/** What a delivery start needs: which subscription, under which workflow id, with which retry schedule. */
export type DeliveryStart = Pick<PlannedDelivery, 'subscriptionId' | 'workflowId' | 'schedule' | 'filterError'>;

/**
 * The options every delivery workflow starts with, whoever starts it (a workflow's `startChild` or
 * `executeChild`, or a client's `workflow.start` with its task queue added): the business-key id,
 * REJECT_DUPLICATE (an id that exists is the same delivery, never sent twice) and the search attributes.
 * Workflows add `parentClosePolicy: ABANDON` (src/workflows/handoff.ts); `extraSearchAttributes` is the
 * lane's id for ordered deliveries.
 */
export function deliveryStartOptions(
  { subscriptionId, workflowId, schedule, filterError }: DeliveryStart,
  event: OutboundEvent,
  extraSearchAttributes: SearchAttributePair[] = [],
) {
  const args: [DeliveryInput] = [
    { subscriptionId, event, schedule, ...(filterError !== undefined ? { filterError } : {}) },
  ];
  return {
    workflowId,
    args,
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [...deliverySearchAttributes(subscriptionId, event, filterError), ...extraSearchAttributes],
    // The reason, readable by describe and list without the history (memo: payload-encoded, not searchable).
    ...(filterError !== undefined ? { memo: { filterError } } : {}),
  };
}
