import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import { SA } from '../../src/shared/search-attributes';
import type { Harness } from './harness';
import { ADMIN_TOKEN, eventually } from './harness';
import type { FakeHttpPeer, RecordedRequest, Responder } from './fake-http';

/** Calls the admin API with the admin token. */
export async function adminApi(h: Harness, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) {
  return h.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

let counter = 0;

/** Creates a subscription through the API and waits until fan-out can see it (visibility). */
export async function createSubscription(h: Harness, fields: Record<string, unknown>): Promise<string> {
  const id = (fields.id as string | undefined) ?? `sub-${Date.now().toString(36)}-${++counter}`;
  const res = await adminApi(h, 'POST', '/api/subscriptions', {
    name: `Test ${id}`,
    contactEmail: 'tech@example.com',
    ...fields,
    id,
  });
  if (res.statusCode !== 201) throw new Error(`create subscription: ${res.statusCode} ${res.body}`);
  await eventually(async () => {
    const list = await adminApi(h, 'GET', '/api/subscriptions');
    return (list.json().subscriptions as Array<{ id: string }>).some((s) => s.id === id);
  }, `subscription ${id} to be listed`);
  return id;
}

export async function publish(h: Harness, body: Record<string, unknown>) {
  const res = await adminApi(h, 'POST', '/api/events', body);
  if (res.statusCode !== 202) throw new Error(`publish: ${res.statusCode} ${res.body}`);
  return res.json() as { eventId: string; workflowId: string; duplicate: boolean };
}

/**
 * A fresh path on `receiver` with its own responder, and a one-day subscription of `h` to `shop.*` there
 * (at `base`: by default the receiver's own URL). `fields` override the subscription's.
 */
export async function subscribe(
  h: Harness,
  receiver: FakeHttpPeer,
  responder: Responder,
  fields: Record<string, unknown> = {},
  base = receiver.url,
) {
  const path = `/hook/${randomUUID()}`;
  receiver.on(path, responder);
  const id = await createSubscription(h, {
    url: `${base}${path}`,
    secret: 'subscriber-secret',
    triggers: ['shop.*'],
    retryPolicy: 'one-day',
    ...fields,
  });
  return { id, path, requests: () => receiver.requestsTo(path) };
}

/** Publishes a `shop.OrderPaid` event and returns the handle of its delivery to the subscription (started by fan-out). */
export async function deliverPublished(h: Harness, subscriptionId: string, extra: Record<string, unknown> = {}) {
  const { eventId, workflowId } = await publish(h, {
    type: 'shop.OrderPaid',
    data: { orderNumber: 'SO-1', amount: 42 },
    ...extra,
  });
  const { deliveries } = await h.client.workflow.getHandle(workflowId).result();
  expect(deliveries).toContainEqual({ subscriptionId, workflowId: deliveryWorkflowId(eventId, subscriptionId) });
  return h.client.workflow.getHandle(deliveryWorkflowId(eventId, subscriptionId));
}

export { verify } from './signatures';

export const json = (request: RecordedRequest) => JSON.parse(request.body.toString('utf8'));

/** A delivery's `HookflowStatus` search attribute; undefined while the workflow does not exist yet. */
export const deliveryStatusOf = (h: Harness, workflowId: string) =>
  h.client.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => d.typedSearchAttributes.get(SA.status))
    .catch(() => undefined); // not started yet

/** Waits until every delivery in `ids` has `HookflowStatus` `status`. */
export async function waitForDeliveryStatus(h: Harness, ids: string[], status: string): Promise<void> {
  await eventually(
    async () => (await Promise.all(ids.map((id) => deliveryStatusOf(h, id)))).every((s) => s === status),
    `${ids.length} deliveries ${status}`,
  );
}
