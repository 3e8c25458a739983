import type { FastifyInstance } from 'fastify';
import { publicView } from '../../subscriptions/seal';
import { deliveriesQuery, failedLastDay } from '../../temporal/deliveries';
import { guarded, posted } from '../plugins/session';
import { done, flashOf, idOf, type ConsoleContext } from './context';

/** The subscriptions list (with each one's failures of the last day), enable/disable and Test. */
export async function subscriptionListRoutes(app: FastifyInstance, { client, store, ui }: ConsoleContext) {
  app.get('/console', guarded, async (request, reply) => {
    const subscriptions = (await store.list()).map(publicView);
    const failed = await failedLastDay(
      client,
      subscriptions.map((s) => s.id),
    );
    return reply.consolePage('list', {
      title: 'Subscriptions',
      subscriptions: subscriptions.map((s) => ({
        ...s,
        failed24h: failed.get(s.id) ?? null,
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
