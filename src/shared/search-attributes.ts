import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * hookflow's custom search attributes. `SEARCH_ATTRIBUTE_TYPES` is what the dev server registers at start
 * (src/stack/dev-server.ts); a production server registers scripts/prod/search-attributes.txt, which
 * scripts/prod/check-compose.sh compares with this list.
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
  triggers: defineSearchAttributeKey('HookflowTriggers', SearchAttributeType.KEYWORD_LIST),
  /** Ordered delivery per entity: the lane workflow id, on the lane and on every delivery it ran. */
  lane: defineSearchAttributeKey('HookflowLane', SearchAttributeType.KEYWORD),
} as const;

/** name -> CLI type, for `temporal server start-dev --search-attribute NAME=TYPE` and the operator API. */
const CLI_TYPES = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
} as Record<string, string>;
export const SEARCH_ATTRIBUTE_TYPES: Record<string, string> = Object.fromEntries(
  Object.values(SA).map((key) => [key.name, CLI_TYPES[key.type] ?? 'Keyword']),
);
