import type { FastifyInstance } from 'fastify';
import { publicView } from '../../subscriptions/seal';
import { deliveriesQuery } from '../../temporal/deliveries';
import { readHealthMemos } from '../../temporal/health';
import type { HealthMemo } from '../../shared/health';
import { guarded, posted } from '../plugins/session';
import { done, flashOf, idOf, type ConsoleContext } from './context';

/** The subscriptions list (with each one's health: healthy, failing since T, disabled), enable/disable and Test. */
export async function subscriptionListRoutes(app: FastifyInstance, { client, store, ui }: ConsoleContext) {
  app.get('/console', guarded, async (request, reply) => {
    const subscriptions = (await store.list()).map(publicView);
    // One describe per subscription (the health workflow's memo, no query), a bounded number at a time.
    const health = await readHealthMemos(
      client,
      subscriptions.map((s) => s.id),
    );
    return reply.consolePage('list', {
      title: 'Subscriptions',
      subscriptions: subscriptions.map((s) => ({
        ...s,
        health: healthView(s.active, health.get(s.id)),
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

  app.post('/console/subscriptions/:id/test', posted(app), async (request, reply) => {
    const id = idOf(request);
    const sentAt = new Date(Date.now() - 1000).toISOString();
    await store.test(id);
    return reply.redirect(`/console/subscriptions/${id}/deliveries?test=${encodeURIComponent(sentAt)}`, 303);
  });
}

/** What the list shows: green healthy, red failing since T (n failures, last status), grey disabled. */
function healthView(active: boolean, memo: HealthMemo | null | 'unknown' | undefined) {
  if (!active) return { state: 'disabled' as const };
  if (memo === 'unknown' || memo === undefined) return { state: 'unknown' as const };
  if (!memo || memo.state !== 'failing') return { state: 'healthy' as const };
  return {
    state: 'failing' as const,
    since: memo.since,
    sinceShort: `${memo.since.slice(11, 16)} UTC`,
    failures: memo.consecutiveFailures,
    last: memo.lastFailure?.httpStatus ?? (memo.lastFailure ? 'no answer' : undefined),
    error: memo.lastFailure?.error,
  };
}
