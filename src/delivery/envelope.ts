import type { OutboundEvent } from '../shared/delivery';
import type { SignatureScheme, Subscription } from '../shared/subscription';
import { SOURCE_KINDS } from '../sources';
import { transformEvent } from '../subscriptions/expression-pool';
import type { TransformedRequest } from '../subscriptions/expressions';

/** The event type without its source namespace (`extend-commerce.OrderCreated` -> `OrderCreated`). */
function bareType(type: string): string {
  const dot = type.indexOf('.');
  return dot > 0 && (SOURCE_KINDS as readonly string[]).includes(type.slice(0, dot)) ? type.slice(dot + 1) : type;
}

/**
 * The body a subscriber receives. `ms-signature` subscribers get Extend's envelope (as if Extend sent
 * it, `Attempt` the real attempt number, fetched data under `Data`); the others get hookflow's JSON
 * event in the Standard Webhooks shape (`type`, `timestamp`, `data`).
 * Next to the fetched data: when it was fetched (`fetchedAt` / `FetchedAt`) and, when a refresh at send
 * time failed, `refreshFailed` / `RefreshFailed`. A delivery standing for several notifications
 * (coalescing) says how many: `coalesced: { count, replaced }` / `Coalesced: { Count, Replaced }`.
 */
export function buildBody(event: OutboundEvent, scheme: SignatureScheme, attempt: number): string {
  if (scheme === 'ms-signature') {
    const details =
      event.source?.kind === 'extend-commerce' && event.data.Details && typeof event.data.Details === 'object'
        ? event.data.Details
        : event.data;
    return JSON.stringify({
      Id: event.uuid.replace(/-/g, ''),
      Attempt: attempt,
      Properties: { NotificationId: event.uuid },
      Notifications: [
        {
          Action: bareType(event.type),
          Details: details,
          ...(event.followUp !== undefined ? { Data: event.followUp } : {}),
          ...(event.followUp !== undefined && event.fetchedAt ? { FetchedAt: event.fetchedAt } : {}),
          ...(event.refreshFailed ? { RefreshFailed: event.refreshFailed } : {}),
          ...(event.coalesced
            ? { Coalesced: { Count: event.coalesced.count, Replaced: event.coalesced.replaced } }
            : {}),
        },
      ],
    });
  }
  return JSON.stringify({
    id: event.id,
    type: event.type,
    timestamp: event.occurredAt,
    attempt,
    source: event.source,
    entity: event.entity,
    warehouse: event.warehouse,
    goodsOwnerId: event.goodsOwnerId,
    data: event.data,
    ...(event.followUp !== undefined ? { followUp: event.followUp } : {}),
    ...(event.followUp !== undefined && event.fetchedAt ? { fetchedAt: event.fetchedAt } : {}),
    ...(event.refreshFailed ? { refreshFailed: event.refreshFailed } : {}),
    ...(event.coalesced ? { coalesced: event.coalesced } : {}),
  });
}

/**
 * The body of one attempt and the extra headers: the subscription's transformation when it has one (the
 * signature then covers the transformed body), else the envelope of its scheme. A transformation that
 * fails throws ExpressionError (src/subscriptions/expressions.ts); it runs on an expression thread.
 */
export async function buildRequest(
  event: OutboundEvent,
  subscription: Pick<Subscription, 'signature' | 'transform'>,
  attempt: number,
): Promise<TransformedRequest> {
  if (subscription.transform) return transformEvent(subscription.transform, event);
  return { body: buildBody(event, subscription.signature, attempt), headers: {} };
}
