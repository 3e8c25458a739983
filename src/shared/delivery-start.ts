import type { SearchAttributePair } from '@temporalio/common';
import { keywordValue } from './bounded';
import type { OutboundEvent } from './delivery';
import { SA } from './search-attributes';

/**
 * The search attributes a delivery workflow starts with, written once at its start (by the inbound
 * workflow as a child, or by the fan-out activity for test events); the delivery itself upserts only
 * what changes (status, attempts, last HTTP status).
 */
export function deliverySearchAttributes(subscriptionId: string, event: OutboundEvent): SearchAttributePair[] {
  return [
    { key: SA.subscription, value: subscriptionId },
    { key: SA.eventType, value: keywordValue(event.type) },
    { key: SA.eventId, value: keywordValue(event.id) },
    { key: SA.status, value: 'delivering' },
    ...(event.entity !== undefined ? [{ key: SA.entity, value: keywordValue(event.entity) }] : []),
  ];
}
