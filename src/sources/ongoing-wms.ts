import { z } from 'zod';
import { verifyBasicAuth, verifyToken } from '../signing/credentials';
import { matchSecret, secretList, sourceConfig } from './source-config';
import { header, scalarFields, type SourceKind } from './source-kind';
import { parseOrThrow } from './zod-errors';

/**
 * Ongoing's webhook families, one page each on developer.ongoingwarehouse.com (`webhook-<page>`), each
 * with its own webhook id field and its own place for the entity users search by. Examples as published:
 * test/fixtures/ongoing/<page>.json.
 */
export const ONGOING_FAMILIES = [
  { page: 'order', idField: 'webhookOrdersId', entity: ['orderNumber', 'orderId'] },
  { page: 'shipment', idField: 'webhookShipmentsId', entity: ['shipmentId'] },
  { page: 'inbound-and-move', idField: 'webhookMovesId', entity: ['article.articleNumber'] },
  { page: 'purchase-order', idField: 'webhookPurchaseOrdersId', entity: ['purchaseOrderNumber', 'purchaseOrderId'] },
  {
    page: 'purchase-order-line',
    idField: 'webhookPurchaseOrderLinesId',
    entity: ['purchaseOrderInfo.purchaseOrderNumber', 'purchaseOrderInfo.purchaseOrderId'],
  },
  { page: 'picking-packing-and-returns', idField: 'webhookPickingId', entity: ['order.orderNumber', 'order.orderId'] },
  { page: 'inventory', idField: 'webhookInventoryId', entity: ['article.articleNumber'] },
  { page: 'article', idField: 'webhookArticlesId', entity: ['articleNumber', 'articleSystemId'] },
  { page: 'article-item', idField: 'webhookArticleItemsId', entity: ['article.articleNumber'] },
  { page: 'movement-order', idField: 'webhookMovementArticleItemsId', entity: ['order.orderId'] },
  { page: 'movement-pallet-item', idField: 'webhookMovementPalletItemsId', entity: ['palletItem.labelId'] },
  { page: 'pick-order', idField: 'webhookPickOrderId', entity: ['pickOrder.pickOrderId'] },
] as const;

export type OngoingFamily = (typeof ONGOING_FAMILIES)[number];

/** The published types of the entity fields (the field tables of the family pages): numbers or text. */
const ENTITY_TYPES: Record<string, 'int' | 'string'> = {
  orderNumber: 'string',
  orderId: 'int',
  shipmentId: 'int',
  articleNumber: 'string',
  articleSystemId: 'int',
  purchaseOrderNumber: 'string',
  purchaseOrderId: 'int',
  labelId: 'string',
  pickOrderId: 'int',
};

/** A webhook id field of a family hookflow does not know yet (Ongoing adds families): `webhook<Name>Id`. */
const FAMILY_ID_FIELD = /^webhook[A-Z][A-Za-z0-9]*Id$/;

const int = z.number().int();

/**
 * Only the fields hookflow uses, with their published types: the dedup key (`webhookEventId`, the
 * family's webhook id), the event type, the goods-owner filter and the follow-up `path`. Everything else
 * (`byUser` and `byComputer` objects, `orderStatus`, `tracking`, `parcels`, `goodsOwnerClasses`, nested
 * `article`, `movement`, ..., fields added later) passes through untouched, whatever its type.
 */
export const ongoingPayload = z.looseObject({
  webhookEventId: int.optional(),
  webhookTemplate: z.string().min(1).optional(),
  goodsOwnerId: int,
  /** REST API path of the resource: the follow-up fetch target. */
  path: z.string().optional(),
  ...Object.fromEntries(ONGOING_FAMILIES.map((family) => [family.idField, int.optional()])),
});

/** Without a family's webhook id, `webhookEventId` alone identifies the event: required then. */
const withEventId = z.looseObject({ webhookEventId: int });

/** The entity schema of one family: its entity fields (and the objects holding them) typed, null = absent. */
function entitySchema(paths: readonly string[]): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  const nested: Record<string, string[]> = {};
  for (const path of paths) {
    const [head, ...rest] = path.split('.') as [string, ...string[]];
    if (rest.length) (nested[head] ??= []).push(rest.join('.'));
    else shape[head] = (ENTITY_TYPES[head] === 'int' ? int : z.string()).nullish();
  }
  for (const [head, inner] of Object.entries(nested)) shape[head] = entitySchema(inner).nullish();
  return z.looseObject(shape);
}

const ENTITY_SCHEMAS = new Map<string, z.ZodType>(
  ONGOING_FAMILIES.map((family) => [family.idField, entitySchema(family.entity)]),
);
/** An unknown family: an order number or id at the top level, as the order family has them. */
const FALLBACK_ENTITY = ['orderNumber', 'orderId'];
const FALLBACK_SCHEMA = entitySchema(FALLBACK_ENTITY);

function valueAt(object: unknown, path: string): unknown {
  let value = object;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The family of a body: a known family's webhook id field, else any `webhook<Name>Id` integer. */
function familyOf(body: Record<string, unknown>): { idField: string; id: number; known?: OngoingFamily } | undefined {
  for (const family of ONGOING_FAMILIES) {
    const id = body[family.idField];
    if (typeof id === 'number') return { idField: family.idField, id, known: family };
  }
  for (const [key, id] of Object.entries(body)) {
    if (key !== 'webhookEventId' && FAMILY_ID_FIELD.test(key) && Number.isSafeInteger(id))
      return { idField: key, id: id as number };
  }
  return undefined;
}

/**
 * Scalars for follow-up URL templates: the top-level fields as before (`{path}`, `{orderId}`), and nested
 * ones by dotted name (`{article.articleNumber}`, `{order.orderId}`), objects only, a few levels deep.
 */
function templateVarsOf(payload: Record<string, unknown>): Record<string, string> {
  const vars = scalarFields(payload);
  const walk = (object: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      scalarFields(Object.fromEntries(Object.entries(value).map(([k, v]) => [`${prefix}${key}.${k}`, v])), vars);
      if (depth > 1) walk(value as Record<string, unknown>, `${prefix}${key}.`, depth - 1);
    }
  };
  walk(payload, '', 3);
  return vars;
}

/** A `sources[]` entry of kind ongoing-wms. */
export const ongoingWmsConfig = sourceConfig('ongoing-wms', {
  auth: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    /** `password` and `token` may be lists while they are being rotated (docs/security.md). */
    z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: secretList }),
    z.strictObject({ type: z.literal('x-auth-token'), token: secretList }),
  ]),
});

export const ongoingWms: SourceKind<typeof ongoingWmsConfig> = {
  kind: 'ongoing-wms',
  title: 'Ongoing WMS',
  // The family's page name is the type of a body without `webhookTemplate`; Ongoing fills that field with
  // "the name of the webhook type" (OrderPicked, ...), a list its pages do not publish: any name is taken.
  eventTypes: ONGOING_FAMILIES.map((family) => family.page),
  namesMoreEventTypes: true,
  configSchema: ongoingWmsConfig,
  secretHeaders: ['authorization', 'x-auth-token'],

  verify(request, config) {
    const auth = config.auth;
    const now = request.receivedAt.getTime();
    switch (auth.type) {
      case 'none':
        return { secret: 'none' };
      case 'basic': {
        const given = header(request.headers, 'authorization');
        if (!given) return { refused: 'missing Authorization header' };
        const matched = matchSecret(auth.password, now, (password) => verifyBasicAuth(given, auth.username, password));
        return matched ? { secret: matched } : { refused: 'Basic credentials do not match' };
      }
      case 'x-auth-token': {
        const given = header(request.headers, 'x-auth-token');
        if (!given) return { refused: 'missing X-Auth-Token header' };
        const matched = matchSecret(auth.token, now, (token) => verifyToken(given, token));
        return matched ? { secret: matched } : { refused: 'X-Auth-Token does not match' };
      }
    }
  },

  /**
   * Dedup key: `webhookEventId` ("internal ID for this particular event"), under the family's webhook id
   * (`webhookOrdersId/991/48213377`) so that families and webhooks sharing one source never collide;
   * `webhookEventId` alone for a body without a family id, the family id alone for one without an event id.
   * The payload is the body as received (not the validated copy).
   */
  parse(body) {
    const checked = parseOrThrow(ongoingPayload, body, 'Ongoing WMS webhook');
    const payload = body as Record<string, unknown>;
    const family = familyOf(payload);
    if (!family) parseOrThrow(withEventId, body, 'Ongoing WMS webhook');
    const paths = family?.known?.entity ?? FALLBACK_ENTITY;
    parseOrThrow(
      family?.known ? ENTITY_SCHEMAS.get(family.known.idField)! : FALLBACK_SCHEMA,
      body,
      'Ongoing WMS webhook',
    );
    const entityValue = paths
      .map((path) => valueAt(payload, path))
      .find((value) => value !== undefined && value !== null);
    const eventId = checked.webhookEventId;
    const eventKey = family
      ? [family.idField, family.id, ...(eventId !== undefined ? [eventId] : [])].join('/')
      : String(eventId);
    return [
      {
        eventKey,
        eventType: checked.webhookTemplate ?? family?.known?.page ?? 'Unknown',
        recognised: checked.webhookTemplate !== undefined || family?.known !== undefined,
        entity: entityValue === undefined ? undefined : String(entityValue),
        goodsOwnerId: checked.goodsOwnerId,
        payload,
        templateVars: templateVarsOf(payload),
      },
    ];
  },
};
