import { z } from 'zod';
import { verifyBasicAuth, verifyToken } from '../signing/credentials';
import { secret, sourceConfig } from './source-config';
import { header, scalarFields, type SourceKind } from './source-kind';
import { parseOrThrow } from './zod-errors';

/**
 * Only the fields hookflow uses, with their published types (developer.ongoingwarehouse.com, one page per
 * webhook family): the dedup key, the event type, the goods-owner filter, the entity and the follow-up
 * `path`. Everything else (`byUser` and `byComputer` objects, `orderStatus`, `tracking`, `parcels`,
 * `goodsOwnerClasses`, fields added later) passes through untouched, whatever its type.
 */
export const ongoingPayload = z.looseObject({
  webhookEventId: z.number().int(),
  webhookTemplate: z.string().min(1).optional(),
  goodsOwnerId: z.number().int(),
  orderId: z.number().int().optional(),
  orderNumber: z.string().optional(),
  /** REST API path of the resource: the follow-up fetch target. */
  path: z.string().optional(),
});

/** A `sources[]` entry of kind ongoing-wms. */
export const ongoingWmsConfig = sourceConfig('ongoing-wms', {
  auth: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: secret }),
    z.strictObject({ type: z.literal('x-auth-token'), token: secret }),
  ]),
});

export const ongoingWms: SourceKind<typeof ongoingWmsConfig> = {
  kind: 'ongoing-wms',
  configSchema: ongoingWmsConfig,
  secretHeaders: ['authorization', 'x-auth-token'],

  verify(request, config) {
    const auth = config.auth;
    switch (auth.type) {
      case 'none':
        return undefined;
      case 'basic': {
        const given = header(request.headers, 'authorization');
        if (!given) return 'missing Authorization header';
        return verifyBasicAuth(given, auth.username, auth.password) ? undefined : 'Basic credentials do not match';
      }
      case 'x-auth-token': {
        const given = header(request.headers, 'x-auth-token');
        if (!given) return 'missing X-Auth-Token header';
        return verifyToken(given, auth.token) ? undefined : 'X-Auth-Token does not match';
      }
    }
  },

  parse(body) {
    const payload = parseOrThrow(ongoingPayload, body, 'Ongoing WMS webhook');
    const templateVars = scalarFields(payload);
    const entity = payload.orderNumber ?? (payload.orderId !== undefined ? String(payload.orderId) : undefined);
    return [
      {
        eventKey: String(payload.webhookEventId),
        eventType: payload.webhookTemplate ?? 'Unknown',
        recognised: payload.webhookTemplate !== undefined,
        entity,
        goodsOwnerId: payload.goodsOwnerId,
        payload,
        templateVars,
      },
    ];
  },
};
