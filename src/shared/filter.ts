import type { EventFilter } from './inbound';

/**
 * Warehouse / goods-owner filter, shared by the inbound workflow and subscription matching (pure, so it
 * runs inside workflows). An event without a warehouse (a customer or price-list event) is not
 * warehouse-scoped and passes a warehouse filter, as in Extend; goods owners work likewise.
 */
export function filterRejection(
  fields: { warehouse?: string; goodsOwnerId?: number },
  filter: EventFilter | undefined,
): string | undefined {
  if (filter?.warehouses?.length && fields.warehouse !== undefined && !filter.warehouses.includes(fields.warehouse)) {
    return `warehouse ${fields.warehouse} is not in [${filter.warehouses.join(', ')}]`;
  }
  if (
    filter?.goodsOwners?.length &&
    fields.goodsOwnerId !== undefined &&
    !filter.goodsOwners.includes(fields.goodsOwnerId)
  ) {
    return `goods owner ${fields.goodsOwnerId} is not in [${filter.goodsOwners.join(', ')}]`;
  }
  return undefined;
}
