import bearerAuth from '@fastify/bearer-auth';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { HookflowConfig } from '../../config/schema';
import { requireKeyring } from '../../security/from-config';
import { SubscriptionStore } from '../../subscriptions/store';
import { deliveryRoutes } from './deliveries';
import { eventRoutes } from './events';
import { subscriptionRoutes } from './subscriptions';

/** Everything under /api, behind `Authorization: Bearer <admin.token>`. */
export const adminRoutes: FastifyPluginAsyncZod<{ config: HookflowConfig; client: Client }> = async (app, { config, client }) => {
  if (!config.admin) {
    app.all('/api/*', async (_request, reply) =>
      reply.status(404).send({ error: 'not_found', message: 'the admin API is disabled: set admin.token in the config' }),
    );
    return;
  }
  await app.register(bearerAuth, {
    keys: new Set([config.admin.token]),
    errorResponse: () => ({ error: 'unauthorized', message: 'a valid admin bearer token is required' }),
  });
  const store = new SubscriptionStore(client, config.temporal.taskQueue, requireKeyring(config, 'the admin API'));
  await app.register(subscriptionRoutes, { store });
  await app.register(eventRoutes, { config, client });
  await app.register(deliveryRoutes, { client, namespace: config.temporal.namespace });
};
