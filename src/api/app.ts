import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HookflowConfig } from '../config/schema';
import { installHttpMetrics } from '../observability/http-metrics';
import { requestId, type HookflowLoggerOptions } from '../observability/logger';
import { installErrorHandler } from './error-handler';
import { installOpenApi } from './openapi';
import { installWebhookRateLimit } from './rate-limit';
import { dataConverterFor } from '../temporal/data-converter';
import { consoleRoutes } from '../console/plugin';
import { adminRoutes } from './routes/admin';
import { codecRoutes } from './routes/codec';
import { healthRoutes } from './routes/health';
import { webhookRoutes } from './routes/webhooks';

export interface AppDeps {
  config: HookflowConfig;
  client: Client;
  /** From `loggerOptions()` (redaction, serializers); a `stream` may be added (tests capture lines). Off when absent. */
  logger?: HookflowLoggerOptions;
}

/** Builds the HTTP API around an injected Temporal client; `server.ts` owns the process around it. */
export async function buildApp({ config, client, logger }: AppDeps) {
  const app = Fastify({
    logger: logger ?? false,
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeout,
    genReqId: requestId,
  }).withTypeProvider<ZodTypeProvider>();
  // Callers can correlate their logs with ours whichever side made up the id.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  // Before the routes: each of these attaches to routes as they are registered.
  await installOpenApi(app);
  installHttpMetrics(app, config);
  await installWebhookRateLimit(app, config);

  await app.register(healthRoutes, { client });
  await app.register(webhookRoutes, { config, client });
  await app.register(adminRoutes, { config, client });
  await app.register(consoleRoutes, { config, client });
  const codec = dataConverterFor(config)?.payloadCodecs?.[0];
  if (codec) await app.register(codecRoutes, { config, codec });
  return app;
}

export type HookflowApp = Awaited<ReturnType<typeof buildApp>>;
