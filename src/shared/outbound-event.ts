import type { OutboundEvent } from './delivery';
import type { EnrichedEvent } from './inbound';

/** The event as subscribers receive it, built from what the inbound workflow accepted and enriched. */
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
