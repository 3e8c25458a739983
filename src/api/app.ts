import type { Client } from '@temporalio/client';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HookflowConfig } from '../config/schema';
import { installErrorHandler } from './error-handler';
import { adminRoutes } from './routes/admin';
import { healthRoutes } from './routes/health';
import { webhookRoutes } from './routes/webhooks';

export interface AppDeps {
  config: HookflowConfig;
  client: Client;
  logger?: FastifyServerOptions['logger'];
}

/** Builds the HTTP API around an injected Temporal client; `server.ts` owns the process around it. */
export async function buildApp({ config, client, logger = false }: AppDeps) {
  const app = Fastify({
    logger,
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeout,
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  await app.register(healthRoutes, { client });
  await app.register(webhookRoutes, { config, client });
  await app.register(adminRoutes, { config, client });
  return app;
}

export type HookflowApp = Awaited<ReturnType<typeof buildApp>>;
