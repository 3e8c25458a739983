import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createSubscriptionSchema, subscriptionIdSchema, updateSubscriptionSchema } from '../../subscriptions/schema';
import { publicView } from '../../subscriptions/seal';
import type { SubscriptionStore } from '../../subscriptions/store';

const idParams = z.object({ id: subscriptionIdSchema });

/** Subscription view as returned: secrets never appear, only `********` where one is set. */
const subscriptionView = z.looseObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  active: z.boolean(),
  triggers: z.array(z.string()),
  secret: z.string().nullable(),
});

/** `/api/subscriptions`: create, read, list, change, enable/disable, delete, and the test trigger. */
export const subscriptionRoutes: FastifyPluginAsyncZod<{ store: SubscriptionStore }> = async (app, { store }) => {
  const tags = ['subscriptions'];
  app.post(
    '/api/subscriptions',
    {
      schema: {
        tags,
        summary: 'Create a subscription',
        body: createSubscriptionSchema,
        response: { 201: subscriptionView },
      },
    },
    async (request, reply) => {
      const created = await store.create(request.body);
      return reply.status(201).send(publicView(created));
    },
  );

  app.get(
    '/api/subscriptions',
    {
      schema: {
        tags,
        summary: 'List subscriptions',
        response: { 200: z.object({ subscriptions: z.array(subscriptionView) }) },
      },
    },
    async () => ({
      subscriptions: (await store.list()).map(publicView),
    }),
  );

  app.get(
    '/api/subscriptions/:id',
    { schema: { tags, summary: 'Get a subscription', params: idParams, response: { 200: subscriptionView } } },
    async (request) => publicView(await store.get(request.params.id)),
  );

  app.patch(
    '/api/subscriptions/:id',
    {
      schema: {
        tags,
        summary: 'Change some fields of a subscription (null removes secret or key)',
        params: idParams,
        body: updateSubscriptionSchema,
        response: { 200: subscriptionView },
      },
    },
    async (request) => publicView(await store.update(request.params.id, request.body)),
  );

  app.post(
    '/api/subscriptions/:id/enable',
    { schema: { tags, summary: 'Enable (Aktivt: Sant)', params: idParams, response: { 200: subscriptionView } } },
    async (request) => publicView(await store.setActive(request.params.id, true)),
  );

  app.post(
    '/api/subscriptions/:id/disable',
    { schema: { tags, summary: 'Disable (Aktivt: Falskt)', params: idParams, response: { 200: subscriptionView } } },
    async (request) => publicView(await store.setActive(request.params.id, false)),
  );

  app.delete(
    '/api/subscriptions/:id',
    { schema: { tags, summary: 'Delete a subscription', params: idParams } },
    async (request, reply) => {
      await store.delete(request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/subscriptions/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a signed test event (the Test button)',
        params: idParams,
        response: { 202: z.object({ status: z.string(), signal: z.string() }) },
      },
    },
    async (request, reply) => {
      await store.test(request.params.id);
      return reply.status(202).send({
        status: 'test event queued',
        signal: `temporal workflow signal --workflow-id subscription/${request.params.id} --name test`,
      });
    },
  );
};
