import type { FastifyInstance } from 'fastify';
import { publicView } from '../../subscriptions/seal';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import { deliveriesQuery, latestDeliveries, retryDelivery } from '../../temporal/deliveries';
import { readForm } from '../form';
import { guarded, posted } from '../plugins/session';
import { done, flashOf, idOf, type ConsoleContext } from './context';

/** A subscription's latest deliveries (with the answer to a Test) and Retry of a failed one. */
export async function deliveryRoutes(app: FastifyInstance, { config, client, store, ui }: ConsoleContext) {
  app.get('/console/subscriptions/:id/deliveries', guarded, async (request, reply) => {
    const subscription = publicView(await store.get(idOf(request)));
    const deliveries = (await latestDeliveries(client, subscription.id)).map((d) => ({
      ...d,
      uiUrl: ui.workflow(d.id, d.runId),
    }));
    const testParam = (request.query as { test?: unknown }).test;
    const testSince =
      typeof testParam === 'string' && !Number.isNaN(Date.parse(testParam)) ? new Date(testParam).toISOString() : null;
    let test: { state: 'waiting' | 'answered'; row?: (typeof deliveries)[number] } | null = null;
    if (testSince) {
      const row = deliveries.find((d) => d.eventType === 'hookflow.test' && d.startedAt >= testSince);
      test =
        row && (row.lastHttpStatus !== null || row.workflowStatus !== 'RUNNING')
          ? { state: 'answered', row }
          : { state: 'waiting', row };
    }
    return reply.consolePage('deliveries', {
      title: `Deliveries of ${subscription.name}`,
      subscription,
      deliveries,
      test,
      // Reload while the test delivery has no answer yet (no script needed; stops once it is answered).
      refresh: test?.state === 'waiting' ? 2 : null,
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
      uiList: ui.list(deliveriesQuery(subscription.id)),
    });
  });

  app.post('/console/deliveries/retry', posted(app), async (request, reply) => {
    const { values } = readForm(request.body);
    const id = values.delivery ?? '';
    const back = subscriptionIdSchema.safeParse(values.subscription);
    if (!id.startsWith('delivery/') || !back.success)
      throw Object.assign(new Error('not a delivery of a subscription'), { statusCode: 400 });
    await retryDelivery(client, config.temporal.namespace, id, 'retry from the console');
    return done(reply, `/console/subscriptions/${back.data}/deliveries`, `Retrying ${id}.`);
  });
}
