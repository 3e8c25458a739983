import type { FastifyInstance } from 'fastify';
import { publicView } from '../../subscriptions/seal';
import { guarded, posted } from '../plugins/session';
import { done, idOf, type ConsoleContext } from './context';

/** Deleting a subscription: a confirmation page, then the post. */
export async function subscriptionDeleteRoutes(app: FastifyInstance, { store }: ConsoleContext) {
  app.get('/console/subscriptions/:id/delete', guarded, async (request, reply) => {
    const current = publicView(await store.get(idOf(request)));
    return reply.consolePage('delete', {
      title: `Delete ${current.name}`,
      subscription: current,
      csrf: reply.generateCsrf(),
    });
  });

  app.post('/console/subscriptions/:id/delete', posted(app), async (request, reply) => {
    const id = idOf(request);
    await store.delete(id);
    return done(reply, '/console', `Deleted ${id}.`);
  });
}
