/**
 * Contract of the coalescer workflow (docs/beyond-delivery.md, "Coalescing stock storms"): one `coalesce/<subscription>/<hash>`
 * workflow per subscription and key, fed by the inbound workflows with the `coalesce` signal; after the
 * window it starts one normal delivery workflow with the latest notification. Pure (no Node modules):
 * workflows import it.
 */
import { defineSignal } from '@temporalio/workflow';
import type { DeliverySchedule, OutboundEvent } from './delivery';

/** Where a notification stands in hookflow's acceptance order: request time, then place in its request, then id. */
export interface AcceptanceOrder {
  receivedAt: string;
  position: number;
  eventId: string;
}

/** One notification handed to a coalescer. */
export interface CoalesceItem {
  event: OutboundEvent;
  order: AcceptanceOrder;
  /** The subscription's schedule when the notification was planned; the delivery of the batch uses its latest's. */
  schedule: DeliverySchedule;
  /** The delivery workflow this notification would have had (`delivery/<eventId>/<subscriptionId>`). */
  deliveryWorkflowId: string;
}

export interface CoalesceInput {
  subscriptionId: string;
  /** The key's field values, for people reading the Web UI. */
  key: Record<string, string>;
  windowMs: number;
  /** The notification that started this run (the rest arrive as signals). */
  first?: CoalesceItem;
  /** Carried over continue-as-new: the batch in progress and the last delivered notification. */
  carried?: {
    latest?: CoalesceItem;
    count: number;
    delivered?: AcceptanceOrder;
    deliveries: number;
    windowEndsAt?: number;
  };
}

export interface CoalesceResult {
  /** Delivery workflows started by this run. */
  deliveries: number;
  /** Notifications dropped because a later one had been delivered already. */
  superseded: number;
}

/** The coalescer workflow's signature, for starters that must not import its module (src/workflows/handoff.ts). */
export type CoalesceWorkflow = (input: CoalesceInput) => Promise<CoalesceResult>;

export const coalesceSignal = defineSignal<[CoalesceItem]>('coalesce');

/** Is `a` later than `b` in acceptance order? */
export function acceptedAfter(a: AcceptanceOrder, b: AcceptanceOrder): boolean {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt > b.receivedAt; // ISO-8601 UTC: compares as text
  if (a.position !== b.position) return a.position > b.position;
  return a.eventId > b.eventId;
}

/** Does a subscription's `coalesce.types` list cover this (namespaced) event type? */
export function coalesceTypeMatches(types: readonly string[], type: string): boolean {
  return types.some((t) => t === type || type.endsWith(`.${t}`));
}

/**
 * The key's values of an event: each field is read from the notification's `Details` (Extend Commerce:
 * `Details.ProductNumber`, `Details.Warehouse`), else from its top level (Ongoing, the Automation API,
 * published events); a dotted name reads nested objects. Undefined when a field is missing or not a
 * string/number: such an event is delivered on its own.
 */
export function coalesceKeyValues(
  data: Record<string, unknown>,
  fields: readonly string[],
): Record<string, string> | undefined {
  const details =
    data.Details && typeof data.Details === 'object' ? (data.Details as Record<string, unknown>) : undefined;
  const read = (from: Record<string, unknown> | undefined, path: string): unknown =>
    path
      .split('.')
      .reduce<unknown>(
        (value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined),
        from,
      );
  const values: Record<string, string> = {};
  if (fields.length === 0) return undefined;
  for (const field of fields) {
    if (typeof field !== 'string') return undefined;
    const value = read(details, field) ?? read(data, field);
    if (typeof value !== 'string' && typeof value !== 'number') return undefined;
    values[field] = String(value);
  }
  return values;
}
