import type { FastifyInstance } from 'fastify';
import { publicView } from '../../subscriptions/seal';
import { deliveriesQuery } from '../../temporal/deliveries';
import { readHealthMemos } from '../../temporal/health';
import { gateState, holdSubscription, releaseSubscription } from '../../temporal/hold';
import { breakerView, heldView, shortTime, tripped, type HealthRead } from '../hold-view';
import { guarded, posted } from '../plugins/session';
import { done, flashOf, idOf, type ConsoleContext } from './context';

type GateState = Awaited<ReturnType<typeof gateState>>;

/**
 * The subscriptions list (with each one's health: healthy, failing since T, disabled; held since T by
 * whom, the breaker's state), enable/disable, hold/release and Test.
 */
export async function subscriptionListRoutes(app: FastifyInstance, { client, store, ui }: ConsoleContext) {
  app.get('/console', guarded, async (request, reply) => {
    const subscriptions = (await store.list()).map(publicView);
    // One describe per subscription (the health workflow's memo, no query), a bounded number at a time.
    const health = await readHealthMemos(
      client,
      subscriptions.map((s) => s.id),
    );
    // The gate's state only where there is a hold to tell about (held, or tripped by the breaker).
    const gates = new Map<string, GateState | undefined>(
      await Promise.all(
        subscriptions
          .filter((s) => s.hold || tripped(health.get(s.id)))
          .map(async (s) => [s.id, await gateState(client, s.id).catch(() => undefined)] as const),
      ),
    );
    return reply.consolePage('list', {
      title: 'Subscriptions',
      subscriptions: subscriptions.map((s) => ({
        ...s,
        health: healthView(s.active, health.get(s.id)),
        held: heldView(s.hold, gates.get(s.id)),
        breakerState: breakerView(s.breaker, health.get(s.id), gates.get(s.id)),
        uiList: ui.list(deliveriesQuery(s.id)),
      })),
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
      uiHome: ui.list(`WorkflowType = 'deliveryWorkflow'`),
    });
  });

  app.post('/console/subscriptions/:id/enable', posted(app), async (request, reply) => {
    const id = idOf(request);
    await store.setActive(id, true);
    return done(reply, '/console', `Enabled ${id}.`);
  });

  app.post('/console/subscriptions/:id/disable', posted(app), async (request, reply) => {
    const id = idOf(request);
    await store.setActive(id, false);
    return done(reply, '/console', `Disabled ${id}.`);
  });

  // Hold and release are signals to the subscription's workflow (its history keeps who did what, when).
  app.post('/console/subscriptions/:id/hold', posted(app), async (request, reply) => {
    const id = idOf(request);
    await store.get(id); // a 404 for a subscription that does not exist
    const budgetRuns = (request.body as { budgetRuns?: unknown } | undefined)?.budgetRuns === 'on';
    await holdSubscription(client, id, { by: 'operator', ...(budgetRuns ? { budgetRuns } : {}) });
    return done(reply, '/console', `Held ${id}.`);
  });

  app.post('/console/subscriptions/:id/release', posted(app), async (request, reply) => {
    const id = idOf(request);
    await store.get(id);
    await releaseSubscription(client, id, { by: 'operator' });
    return done(reply, '/console', `Released ${id}.`);
  });

  app.post('/console/subscriptions/:id/test', posted(app), async (request, reply) => {
    const id = idOf(request);
    const sentAt = new Date(Date.now() - 1000).toISOString();
    await store.test(id);
    return reply.redirect(`/console/subscriptions/${id}/deliveries?test=${encodeURIComponent(sentAt)}`, 303);
  });
}

/** What the list shows: green healthy, red failing since T (n failures, last status), grey disabled. */
function healthView(active: boolean, memo: HealthRead) {
  if (!active) return { state: 'disabled' as const };
  if (memo === 'unknown' || memo === undefined) return { state: 'unknown' as const };
  if (!memo || memo.state !== 'failing') return { state: 'healthy' as const };
  return {
    state: 'failing' as const,
    since: memo.since,
    sinceShort: shortTime(memo.since),
    failures: memo.consecutiveFailures,
    last: memo.lastFailure?.httpStatus ?? (memo.lastFailure ? 'no answer' : undefined),
    error: memo.lastFailure?.error,
  };
}
