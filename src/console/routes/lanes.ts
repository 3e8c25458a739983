import type { FastifyInstance } from 'fastify';
import { publicView } from '../../subscriptions/seal';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import { lanesQuery, listLanes, skipLaneHead } from '../../temporal/lanes';
import { readForm } from '../form';
import { guarded, posted } from '../plugins/session';
import { done, flashOf, idOf, type ConsoleContext } from './context';

/** An ordered subscription's lanes held by a head delivery or with events waiting, and Skip head. */
export async function laneRoutes(app: FastifyInstance, { client, store, ui }: ConsoleContext) {
  app.get('/console/subscriptions/:id/lanes', guarded, async (request, reply) => {
    const subscription = publicView(await store.get(idOf(request)));
    const lanes = (await listLanes(client, subscription.id)).map((lane) => ({
      ...lane,
      laneUrl: ui.workflow(lane.laneId, lane.runId),
      headUrl: lane.head ? ui.workflow(lane.head) : null,
    }));
    return reply.consolePage('lanes', {
      title: `Lanes of ${subscription.name}`,
      subscription,
      lanes,
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
      uiList: ui.list(lanesQuery(subscription.id)),
    });
  });

  app.post('/console/subscriptions/:id/lanes/skip-head', posted(app), async (request, reply) => {
    const { values } = readForm(request.body);
    const id = subscriptionIdSchema.safeParse((request.params as { id: string }).id);
    const entity = values.entity ?? '';
    const head = values.delivery ?? '';
    if (!id.success || !entity || !head.startsWith('delivery/'))
      throw Object.assign(new Error('not a lane of a subscription'), { statusCode: 400 });
    await store.get(id.data);
    await skipLaneHead(client, id.data, entity, 'skipped from the console', head);
    return done(reply, `/console/subscriptions/${id.data}/lanes`, `Skipped ${head}.`);
  });
}
