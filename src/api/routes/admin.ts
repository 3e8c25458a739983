import bearerAuth from '@fastify/bearer-auth';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { HookflowConfig } from '../../config/schema';
import { InvalidPayloadError } from '../../errors';
import { credentialQueryParameters } from '../../observability/logger';
import { redactQueryValues } from '../../observability/redact-query';
import { requireKeyring } from '../../security/from-config';
import { SubscriptionStore } from '../../subscriptions/store';
import { deliveryRoutes } from './deliveries';
import { eventLogRoutes } from './event-log';
import { eventRoutes } from './events';
import { holdRoutes } from './hold';
import { laneRoutes } from './lanes';
import { rejectionRoutes } from './rejections';
import { refuseSourceIdTriggers } from '../plugins/trigger-sources';
import { subscriptionHealthRoutes } from './health-of-subscription';
import { replayRoutes } from './replay';
import { bulkRetryRoutes } from './bulk-retry';
import { subscriptionRoutes } from './subscriptions';
import { transformTryRoutes } from './transform-try';

/** Everything under /api, behind `Authorization: Bearer <admin.token>`. */
export const adminRoutes: FastifyPluginAsyncZod<{ config: HookflowConfig; client: Client }> = async (
  app,
  { config, client },
) => {
  if (!config.admin) {
    app.all('/api/*', async (_request, reply) =>
      reply
        .status(404)
        .send({ error: 'not_found', message: 'the admin API is disabled: set admin.token in the config' }),
    );
    return;
  }
  // A token in the URL ends up in proxy logs, browser history and Referer headers: refused, never looked at.
  app.addHook('onRequest', async (request) => {
    const names = credentialQueryParameters(request.url);
    if (names.length) {
      request.log.warn(
        { clientAddress: request.ip, parameters: names },
        'admin request with a credential in the query string refused',
      );
      throw new InvalidPayloadError(
        `credentials are not accepted in the query string (${names.join(', ')}); send Authorization: Bearer <token>`,
      );
    }
  });
  await app.register(bearerAuth, {
    keys: new Set([config.admin.token]),
    // A wrong or missing token is the client's mistake (or a probe), not a server error: the plugin's own
    // line goes to debug, and the onResponse hook below warns, with who sent it.
    verifyErrorLogLevel: 'debug',
    errorResponse: () => ({ error: 'unauthorized', message: 'a valid admin bearer token is required' }),
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode === 401)
      request.log.warn(
        { clientAddress: request.ip, url: redactQueryValues(request.url) },
        'admin authentication failed',
      );
  });
  app.addHook('preValidation', refuseSourceIdTriggers(config));
  const store = new SubscriptionStore(client, config.temporal.taskQueue, requireKeyring(config, 'the admin API'));
  await app.register(subscriptionRoutes, { store });
  await app.register(subscriptionHealthRoutes, { client, store });
  await app.register(transformTryRoutes, { client, store });
  await app.register(holdRoutes, { client });
  await app.register(eventRoutes, { config, client });
  await app.register(eventLogRoutes, { client });
  await app.register(replayRoutes, { config, client, store });
  await app.register(bulkRetryRoutes, { config, client, store });
  await app.register(deliveryRoutes, { client, namespace: config.temporal.namespace });
  await app.register(laneRoutes, { client, store });
  await app.register(rejectionRoutes);
};
