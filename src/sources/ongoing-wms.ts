import { z } from 'zod';
import type { SourceOf } from '../config/schema';
import { verifyBasicAuth, verifyToken } from '../signing/credentials';
import { header, scalarFields, type SourceKind } from './source-kind';
import { parseOrThrow } from './zod-errors';

/** Fields every Ongoing WMS webhook carries, plus the order fields of the order webhooks. */
export const ongoingPayload = z.looseObject({
  webhookEventId: z.number().int(),
  webhookTemplate: z.string().min(1).optional(),
  system: z.string().optional(),
  timestamp: z.string().optional(),
  goodsOwnerId: z.number().int(),
  goodsOwnerName: z.string().optional(),
  byUser: z.string().nullable().optional(),
  byComputer: z.string().nullable().optional(),
  // Order webhooks (order created, order picked, order status changed).
  webhookOrdersId: z.number().int().optional(),
  orderId: z.number().int().optional(),
  orderNumber: z.string().optional(),
  orderStatus: z.looseObject({ number: z.number().int().optional() }).optional(),
  currentShipmentId: z.number().int().nullable().optional(),
  /** REST API path of the resource: the follow-up fetch target. */
  path: z.string().optional(),
});

export const ongoingWms: SourceKind<SourceOf<'ongoing-wms'>> = {
  kind: 'ongoing-wms',

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
