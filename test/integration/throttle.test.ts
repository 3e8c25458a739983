import { randomUUID } from 'node:crypto';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import type { FakeHttpPeer } from '../support/fake-http';
import { adminApi, createSubscription, deliverPublished, publish } from '../support/outbound';
import { eventually, FAST_RETRIES, startWithReceiver, stopWithReceiver, type Harness } from '../support/harness';

// Throttle (docs/operations.md "Throttle"): at most maxInFlight requests at the receiver at once, whatever
// the burst. Only the concurrency is asserted; the rate is measured by bench/throttle.ts.
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  ({ h, receiver } = await startWithReceiver(FAST_RETRIES));
});

afterAll(() => stopWithReceiver({ h, receiver }));

test('rateLimit 5, maxInFlight 2: a burst never has more than 2 requests at the receiver at once', async () => {
  const run = randomUUID().slice(0, 8);
  const path = `/throttle/${run}`;
  let open = 0;
  let maxOpen = 0;
  const seen = new Map<string, number>();
  receiver.on(path, async (request) => {
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    const id = String(request.headers['webhook-id']);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 150)); // a receiver that takes its time
    open -= 1;
    // Every third request fails once: retries go through the gate as well.
    return { status: seen.size % 3 === 0 && seen.get(id) === 1 ? 503 : 200 };
  });
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    signature: 'standard-webhooks',
    triggers: ['shop.*'],
  });
  const patched = await adminApi(h, 'PATCH', `/api/subscriptions/${sub}`, { rateLimit: 5, maxInFlight: 2 });
  expect(patched.statusCode).toBe(200);
  expect(patched.json()).toMatchObject({ rateLimit: 5, maxInFlight: 2 });
  const refused = await adminApi(h, 'PATCH', `/api/subscriptions/${sub}`, { maxInFlight: 0 });
  expect(refused.statusCode).toBe(400);

  const events = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      publish(h, { type: 'shop.OrderPaid', data: { i }, idempotencyKey: `${run}-${i}` }),
    ),
  );
  const ids = events.map(({ eventId }) => deliveryWorkflowId(eventId, sub));
  const results = await eventually(
    async () => {
      const all = await Promise.all(
        ids.map((id) =>
          h.client.workflow
            .getHandle(id)
            .result()
            .catch(() => undefined),
        ),
      );
      return all.every(Boolean) && all;
    },
    'every delivery to end',
    60_000,
  );
  expect(results.every((r) => r!.status === 'delivered')).toBe(true);
  expect(seen.size).toBe(12);
  expect(maxOpen).toBeGreaterThanOrEqual(1);
  expect(maxOpen).toBeLessThanOrEqual(2);
  const state = await adminApi(h, 'GET', `/api/subscriptions/${sub}/gate`);
  expect(state.json()).toMatchObject({ held: false, rateLimit: 5, maxInFlight: 2 });

  // Unthrottled again: the next delivery takes the direct path (no gate).
  await adminApi(h, 'PATCH', `/api/subscriptions/${sub}`, { rateLimit: null, maxInFlight: null });
  const after = await (await deliverPublished(h, sub, { idempotencyKey: `${run}-after` })).result();
  expect(after).toMatchObject({ status: 'delivered', attempt: 1 });
});
