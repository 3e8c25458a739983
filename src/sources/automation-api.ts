import { z } from 'zod';
import { verifyToken } from '../signing/credentials';
import { X_SIGNATURE_HEADER, verifyXSignature } from '../signing/x-signature';
import { DURATION_BOUNDS, isoDuration } from '../config/duration';
import { matchSecret, secretList, sourceConfig } from './source-config';
import { header, type SourceKind } from './source-kind';
import { keyText, parseOrThrow } from './zod-errors';

export const AUTOMATION_EVENT_TYPES = [
  'OrderCreated',
  'OrderAccepted',
  'OrderSigned',
  'OrderRejected',
  'OrderCanceled',
  'OrderExpired',
  'OrderDueDateUpdated',
] as const;

/** Event types that can happen more than once for the same order. */
const REPEATABLE = new Set<string>(['OrderDueDateUpdated']);

export const automationPayload = z.looseObject({
  orderId: keyText.max(200),
  eventType: keyText.max(100),
});

/** A `sources[]` entry of kind automation-api (its `key` query parameter is masked in logs by name). */
export const automationApiConfig = sourceConfig('automation-api', {
  /** Verifies `X-Signature`; without it requests are unsigned (then configure `key`). */
  secret: secretList.optional(),
  /** The `key` query parameter the Automation API appends; must match when set. */
  key: secretList.optional(),
  /** OrderDueDateUpdated can repeat per order: retries within this window are one event. */
  dedupWindow: isoDuration('PT1M', DURATION_BOUNDS.dedupWindow),
});

export const automationApi: SourceKind<typeof automationApiConfig> = {
  kind: 'automation-api',
  title: 'Automation API',
  eventTypes: AUTOMATION_EVENT_TYPES,
  configSchema: automationApiConfig,
  secretHeaders: [X_SIGNATURE_HEADER],

  verify(request, config) {
    const now = request.receivedAt.getTime();
    let keyLabel: string | undefined;
    let secretLabel: string | undefined;
    if (config.key !== undefined) {
      const given = request.query.key;
      if (typeof given !== 'string') return { refused: 'missing key query parameter' };
      keyLabel = matchSecret(config.key, now, (key) => verifyToken(given, key));
      if (!keyLabel) return { refused: 'key query parameter does not match' };
    }
    if (config.secret !== undefined) {
      const signature = header(request.headers, X_SIGNATURE_HEADER);
      if (!signature) return { refused: 'missing X-Signature header' };
      secretLabel = matchSecret(config.secret, now, (secret) => verifyXSignature(secret, request.rawBody, signature));
      if (!secretLabel) return { refused: 'X-Signature does not match the body' };
    }
    // Both configured: which key and which secret matched (`key:current,secret:previous`).
    if (keyLabel && secretLabel) return { secret: `key:${keyLabel},secret:${secretLabel}` };
    return { secret: keyLabel ?? secretLabel ?? 'none' };
  },

  /**
   * The body has only orderId and eventType, so the dedup key is built from them: each state change
   * (created, accepted, signed, ...) happens once per order, so `orderId-eventType` identifies it.
   * OrderDueDateUpdated can repeat, so its key adds a time window (`dedupWindow`, default 1 minute):
   * retries inside one window are one event; the follow-up fetch reads the current order anyway.
   */
  parse(body, request, config) {
    const payload = parseOrThrow(automationPayload, body, 'Automation API webhook');
    const window = Math.floor(request.receivedAt.getTime() / config.dedupWindow);
    // Each part percent-encoded, joined by `/` (which encoding removes from the parts): two different
    // (orderId, eventType) pairs can never make the same key, as `X-OrderSigned`+`X` and `X`+`OrderSigned-X` did.
    const parts = [payload.orderId, payload.eventType, ...(REPEATABLE.has(payload.eventType) ? [String(window)] : [])];
    const eventKey = parts.map(encodeURIComponent).join('/');
    return [
      {
        eventKey,
        eventType: payload.eventType,
        recognised: (AUTOMATION_EVENT_TYPES as readonly string[]).includes(payload.eventType),
        entity: payload.orderId,
        payload: body as Record<string, unknown>, // as received; the validated copy only for the keys
        templateVars: { orderId: payload.orderId, eventType: payload.eventType },
      },
    ];
  },
};
