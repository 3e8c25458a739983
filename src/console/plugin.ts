import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HookflowConfig } from '../config/schema';
import { requireKeyring } from '../security/from-config';
import { SubscriptionStore } from '../subscriptions/store';
import { consoleAssets } from './plugins/assets';
import { consoleErrors } from './plugins/errors';
import { consolePages } from './plugins/pages';
import { consoleSecurity } from './plugins/security';
import { consoleSessions } from './plugins/session';
import type { ConsoleContext } from './routes/context';
import { bulkRetryRoutes } from './routes/bulk-retry';
import { deliveryRoutes } from './routes/deliveries';
import { eventRoutes } from './routes/events';
import { laneRoutes } from './routes/lanes';
import { rejectionRoutes } from './routes/rejections';
import { subscriptionDeleteRoutes } from './routes/subscription-delete';
import { subscriptionFormRoutes } from './routes/subscription-form';
import { subscriptionListRoutes } from './routes/subscriptions';
import { transformTryRoutes } from './routes/transform-try';
import { webUi } from './web-ui';

/**
 * The web console at /console: sign-in with the admin token, subscriptions (list, create, edit,
 * enable/disable, delete, Test) and each one's latest deliveries with Retry and links to the Temporal Web
 * UI. Server-rendered Eta templates. Registered without fastify-plugin, so its cookie, CSRF, form-body
 * parser, security headers and HTML error pages apply to /console only; the plugins below share their
 * decorators within this scope, and each page group is its own plugin.
 */
export async function consoleRoutes(
  app: FastifyInstance,
  { config, client }: { config: HookflowConfig; client: Client },
) {
  if (!config.admin) {
    const disabled = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.status(404).type('text/plain').send('the console is disabled: set admin.token in the config');
    app.all('/console', disabled);
    app.all('/console/*', disabled);
    return;
  }
  await app.register(consoleSecurity);
  await app.register(consolePages);
  await app.register(consoleSessions, { adminToken: config.admin.token });
  await app.register(consoleErrors);
  await app.register(consoleAssets);

  const context: ConsoleContext = {
    config,
    client,
    store: new SubscriptionStore(client, config.temporal.taskQueue, requireKeyring(config, 'the console')),
    ui: webUi(config.console.temporalUiUrl, config.temporal.namespace),
  };
  await app.register(subscriptionListRoutes, context);
  await app.register(subscriptionFormRoutes, context);
  await app.register(subscriptionDeleteRoutes, context);
  await app.register(transformTryRoutes, context);
  await app.register(deliveryRoutes, context);
  await app.register(bulkRetryRoutes, context);
  await app.register(eventRoutes, context);
  await app.register(laneRoutes, context);
  await app.register(rejectionRoutes);
}
