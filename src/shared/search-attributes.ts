import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * hookflow's custom search attributes. Registered on the dev server at start (scripts/temporal-dev.sh)
 * and on a production server by scripts/register-search-attributes.sh; `SEARCH_ATTRIBUTE_TYPES` is the
 * single list both read.
 */
export const SA = {
  source: defineSearchAttributeKey('HookflowSource', SearchAttributeType.KEYWORD),
  sourceKind: defineSearchAttributeKey('HookflowSourceKind', SearchAttributeType.KEYWORD),
  eventType: defineSearchAttributeKey('HookflowEventType', SearchAttributeType.KEYWORD),
  entity: defineSearchAttributeKey('HookflowEntity', SearchAttributeType.KEYWORD),
  warehouse: defineSearchAttributeKey('HookflowWarehouse', SearchAttributeType.KEYWORD),
  goodsOwner: defineSearchAttributeKey('HookflowGoodsOwner', SearchAttributeType.INT),
  status: defineSearchAttributeKey('HookflowStatus', SearchAttributeType.KEYWORD),
  subscription: defineSearchAttributeKey('HookflowSubscription', SearchAttributeType.KEYWORD),
  eventId: defineSearchAttributeKey('HookflowEventId', SearchAttributeType.KEYWORD),
  attempts: defineSearchAttributeKey('HookflowAttempts', SearchAttributeType.INT),
  httpStatus: defineSearchAttributeKey('HookflowHttpStatus', SearchAttributeType.INT),
} as const;

/** name -> CLI type, for `temporal server start-dev --search-attribute NAME=TYPE` and the operator API. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'Int'> = Object.fromEntries(
  Object.values(SA).map((key) => [key.name, key.type === SearchAttributeType.INT ? 'Int' : 'Keyword']),
);
