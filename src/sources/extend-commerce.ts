import { z } from 'zod';
import { MS_SIGNATURE_HEADER, verifyMsSignature } from '../signing/ms-signature';
import { matchSecret, secretList, sourceConfig } from './source-config';
import { header, scalarFields, type ParsedNotification, type SourceKind } from './source-kind';
import { keyText, parseOrThrow } from './zod-errors';

/** Extend sends identifiers as strings in its samples; accept numbers too and keep them as text. */
const identifier = z.union([z.string().min(1), z.number()]).transform(String);

const order = { OrderNumber: identifier, OrderType: z.string().optional(), Warehouse: z.string().optional() };
const purchase = { OrderNumber: identifier, Warehouse: z.string().optional() };
const product = { ProductNumber: identifier };
const customer = { CustomerNumber: identifier };
const invoice = { InvoiceNumber: identifier };
const offer = { OfferNumber: identifier };

/** `Details` of every action in Extend Commerce's complete list; extra keys are kept. */
export const EXTEND_DETAILS = {
  AvailableBalanceChanged: z.looseObject({ ...product, Warehouse: z.string(), AvailableBalance: z.number() }),
  BalanceChanged: z.looseObject({
    ...product,
    Warehouse: z.string(),
    Balance: z.number(),
    EventName: z.string().optional(),
    EventType: z.string().optional(),
  }),
  CustomerChanged: z.looseObject(customer),
  CustomerCreated: z.looseObject(customer),
  CustomerInvoiceChanged: z.looseObject(invoice),
  CustomerInvoiceCreated: z.looseObject(invoice),
  OfferChanged: z.looseObject(offer),
  OfferCreated: z.looseObject(offer),
  OrderCancelled: z.looseObject(order),
  OrderCreated: z.looseObject(order),
  OrderDeliveryDataChanged: z.looseObject(order),
  OrderPicked: z.looseObject(order),
  OrderReserved: z.looseObject(order),
  PickingStarted: z.looseObject({
    Order: z.looseObject({
      OrderNumber: identifier,
      Warehouse: z.string().optional(),
      Row: z
        .looseObject({
          Position: z.number().optional(),
          SubPosition: z.number().optional(),
          ProductNumber: identifier.optional(),
          Unit: z.looseObject({ Quantity: z.number().optional() }).optional(),
        })
        .optional(),
    }),
  }),
  PriceListWebHook: z.looseObject({ PriceListName: z.string().min(1) }),
  ProductChanged: z.looseObject(product),
  ProductCreated: z.looseObject(product),
  PurchaseCancelled: z.looseObject(purchase),
  PurchaseCreated: z.looseObject(purchase),
  PurchaseDelivered: z.looseObject(purchase),
  PurchasePartiallyDelivered: z.looseObject(purchase),
} as const;

export type ExtendAction = keyof typeof EXTEND_DETAILS;
export const EXTEND_ACTIONS = Object.keys(EXTEND_DETAILS) as ExtendAction[];

const envelope = z.looseObject({
  Id: keyText,
  Attempt: z.number().int().min(0).optional(),
  Properties: z.looseObject({ NotificationId: keyText.optional() }).optional(),
  Notifications: z
    .array(z.looseObject({ Action: z.string().min(1), Details: z.record(z.string(), z.unknown()) }))
    .min(1, 'must hold at least one notification'),
});

/** Where each action's entity (HookflowEntity) is: the number users search by. */
export const EXTEND_ENTITY: Record<ExtendAction, string> = {
  AvailableBalanceChanged: 'ProductNumber',
  BalanceChanged: 'ProductNumber',
  CustomerChanged: 'CustomerNumber',
  CustomerCreated: 'CustomerNumber',
  CustomerInvoiceChanged: 'InvoiceNumber',
  CustomerInvoiceCreated: 'InvoiceNumber',
  OfferChanged: 'OfferNumber',
  OfferCreated: 'OfferNumber',
  OrderCancelled: 'OrderNumber',
  OrderCreated: 'OrderNumber',
  OrderDeliveryDataChanged: 'OrderNumber',
  OrderPicked: 'OrderNumber',
  OrderReserved: 'OrderNumber',
  PickingStarted: 'OrderNumber', // Details.Order.OrderNumber
  PriceListWebHook: 'PriceListName',
  ProductChanged: 'ProductNumber',
  ProductCreated: 'ProductNumber',
  PurchaseCancelled: 'OrderNumber',
  PurchaseCreated: 'OrderNumber',
  PurchaseDelivered: 'OrderNumber',
  PurchasePartiallyDelivered: 'OrderNumber',
};

/** For actions hookflow does not know yet: the first of these Details fields present. */
const ENTITY_KEYS = ['OrderNumber', 'ProductNumber', 'CustomerNumber', 'InvoiceNumber', 'OfferNumber', 'PriceListName'];

function isKnownAction(action: string): action is ExtendAction {
  return Object.prototype.hasOwnProperty.call(EXTEND_DETAILS, action);
}

/** A `sources[]` entry of kind extend-commerce. */
export const extendCommerceConfig = sourceConfig('extend-commerce', {
  /** The webhook's Secret in Extend: verifies `ms-signature` (a list while it is being rotated). */
  secret: secretList,
});

export const extendCommerce: SourceKind<typeof extendCommerceConfig> = {
  kind: 'extend-commerce',
  title: 'Extend Commerce',
  eventTypes: EXTEND_ACTIONS,
  configSchema: extendCommerceConfig,
  secretHeaders: [MS_SIGNATURE_HEADER],

  verify(request, config) {
    const signature = header(request.headers, MS_SIGNATURE_HEADER);
    if (!signature) return { refused: `missing ${MS_SIGNATURE_HEADER} header` };
    const matched = matchSecret(config.secret, request.receivedAt.getTime(), (secret) =>
      verifyMsSignature(secret, request.rawBody, signature),
    );
    return matched ? { secret: matched } : { refused: `${MS_SIGNATURE_HEADER} does not match the body` };
  },

  parse(body) {
    const env = parseOrThrow(envelope, body, 'Extend Commerce envelope');
    const notificationId = env.Properties?.NotificationId ?? env.Id;
    // The notifications as received: what is validated is read from them, never replaced (a number stays a number).
    const received = (
      body as { Notifications: Array<Record<string, unknown> & { Action: string; Details: Record<string, unknown> }> }
    ).Notifications;
    return env.Notifications.map((notification, index): ParsedNotification => {
      const recognised = isKnownAction(notification.Action);
      if (recognised)
        parseOrThrow(
          EXTEND_DETAILS[notification.Action as ExtendAction],
          notification.Details,
          `Notifications[${index}] (${notification.Action}) Details`,
        );
      const original = received[index]!;
      const details = original.Details;
      const nestedOrder =
        details.Order && typeof details.Order === 'object' && !Array.isArray(details.Order)
          ? (details.Order as Record<string, unknown>)
          : undefined;
      const templateVars = scalarFields(details, scalarFields(nestedOrder));
      templateVars.Action = notification.Action;
      templateVars.NotificationId = notificationId;
      const entityKey = recognised
        ? EXTEND_ENTITY[notification.Action as ExtendAction]
        : ENTITY_KEYS.find((key) => templateVars[key] !== undefined);
      return {
        eventKey: `${notificationId}-${index}`,
        eventType: notification.Action,
        recognised,
        entity: entityKey ? templateVars[entityKey] : undefined,
        warehouse: templateVars.Warehouse,
        // The notification's own fields (Action, Details and any other) untouched, with the envelope's ids.
        payload: {
          ...original,
          Id: env.Id,
          Attempt: env.Attempt,
          NotificationId: notificationId,
          Action: notification.Action,
          Details: details,
        },
        templateVars,
      };
    });
  },
};
