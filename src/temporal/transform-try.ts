import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { NotFoundError } from '../errors';
import { TEST_EVENT_TYPE, type DeliveryInput, type OutboundEvent } from '../shared/delivery';
import { SA } from '../shared/search-attributes';
import type { SubscriptionTransform } from '../shared/subscription';
import { transformEvent } from '../subscriptions/expression-pool';
import { ExpressionError } from '../subscriptions/expressions';
import { deliveriesQuery } from './deliveries';
import { literal } from './event-log-query';

/** What "try it" shows: the event it ran on and the transformation's body and headers, or its error. */
export interface TransformTry {
  eventId: string;
  eventType: string;
  /** The delivery the event was read from. */
  deliveryId: string;
  result:
    | { ok: true; body: unknown; headers: Record<string, string>; bytes: number }
    | { ok: false; error: string; position: number | null };
}

async function decode<T>(client: Client, payload: Payload | null | undefined): Promise<T | null> {
  if (!payload) return null;
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let payloads = [payload];
  for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return payloadConverter.fromPayload<T>(payloads[0]!);
}

/**
 * A real event the subscription received: the one with `eventId`, else the latest that was not a test.
 * Read from the input of its delivery workflow (the event exactly as it went to the delivery, follow-up included).
 */
export async function recentEventOf(
  client: Client,
  subscriptionId: string,
  eventId?: string,
): Promise<{ event: OutboundEvent; deliveryId: string }> {
  const query = `${deliveriesQuery(subscriptionId)} AND ${
    eventId !== undefined ? `${SA.eventId.name} = ${literal(eventId)}` : `${SA.eventType.name} != '${TEST_EVENT_TYPE}'`
  }`;
  for await (const w of client.workflow.list({ query, pageSize: 5 })) {
    const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const input = await decode<DeliveryInput>(client, started as Payload | undefined);
    if (input?.event) return { event: input.event, deliveryId: w.workflowId };
  }
  throw new NotFoundError(
    eventId !== undefined
      ? `subscription ${subscriptionId} has no delivery of event ${eventId}`
      : `subscription ${subscriptionId} has no delivered event yet to try the transformation on`,
  );
}

/** Runs a (possibly unsaved) transformation on a recent real event of the subscription, within the usual bounds. */
export async function tryTransform(
  client: Client,
  subscriptionId: string,
  transform: SubscriptionTransform,
  eventId?: string,
): Promise<TransformTry> {
  const { event, deliveryId } = await recentEventOf(client, subscriptionId, eventId);
  const about = { eventId: event.id, eventType: event.type, deliveryId };
  try {
    const out = await transformEvent(transform, event);
    return {
      ...about,
      result: { ok: true, body: JSON.parse(out.body), headers: out.headers, bytes: Buffer.byteLength(out.body) },
    };
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    return { ...about, result: { ok: false, error: err.message, position: err.position ?? null } };
  }
}
