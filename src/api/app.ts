import type { Client } from '@temporalio/client';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HookflowConfig } from '../config/schema';
import { requestId, type HookflowLoggerOptions } from '../observability/logger';
import { processMetrics } from '../observability/metrics';
import { installRequestSpans } from '../observability/request-spans';
import type { Tracing } from '../observability/tracing';
import { installErrorHandler } from './error-handler';
import { lingerAfterEarlyResponse } from './linger';
import { installOpenApi, serveOpenApiOf } from './openapi';
import { dataConverterFor } from '../temporal/data-converter';
import { consoleRoutes } from '../console/plugin';
import { adminRoutes } from './routes/admin';
import { codecRoutes } from './routes/codec';
import { healthRoutes } from './routes/health';
import { opsRoutes } from './routes/ops';
import { webhookRejections } from './plugins/rejections';
import { webhookRoutes } from './routes/webhooks';

export interface AppDeps {
  config: HookflowConfig;
  client: Client;
  /** From `loggerOptions()` (redaction, serializers); a `stream` may be added (tests capture lines). Off when absent. */
  logger?: HookflowLoggerOptions;
  /** OpenTelemetry (src/observability/tracing.ts): a span per request. Off when absent. */
  tracing?: Tracing;
}

/** Builds the HTTP API around an injected Temporal client; `server.ts` owns the process around it. */
export async function buildApp({ config, client, logger, tracing }: AppDeps) {
  const app = Fastify({
    logger: logger ?? false,
    bodyLimit: config.server.bodyLimitBytes,
    // X-Forwarded-For names the client only when the peer is a configured proxy (request.ip).
    trustProxy: config.server.trustedProxies.length ? config.server.trustedProxies : false,
    genReqId: requestId,
    ...serverTimeouts(config),
  }).withTypeProvider<ZodTypeProvider>();
  // Callers can correlate their logs with ours whichever side made up the id.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  if (tracing) installRequestSpans(app, tracing); // before any route: it wraps their handlers
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  lingerAfterEarlyResponse(app, config.server.requestTimeout);
  // Before the routes: it attaches to routes as they are registered.
  await installOpenApi(app);
  processMetrics();

  await app.register(healthRoutes);
  // With server.ops.port they are served by buildOpsApp on their own listener instead.
  if (config.server.ops.port === undefined) await app.register(opsRoutes, { config, client });
  await app.register(webhookRejections, { config }); // before the webhook routes, the admin API and the console
  await app.register(webhookRoutes, { config, client });
  await app.register(adminRoutes, { config, client });
  await app.register(consoleRoutes, { config, client });
  const codec = dataConverterFor(config)?.payloadCodecs?.[0];
  if (codec) await app.register(codecRoutes, { config, codec });
  return app;
}

export type HookflowApp = Awaited<ReturnType<typeof buildApp>>;

/**
 * Slow clients: Node checks its header and request timeouts only every `connectionsCheckingInterval`
 * (30 s by default, which made a configured 30 s act as 40-70 s). Checked every second at most here, so
 * the effective bounds are the configured ones plus at most a second. An idle socket mid-request is
 * closed once the whole-request budget has clearly passed; idle keep-alive connections outlive a load
 * balancer's usual 60 s idle timeout, so the proxy closes them first (never reusing one we are closing).
 */
export function serverTimeouts(config: HookflowConfig) {
  const { headersTimeout, requestTimeout } = config.server;
  return {
    requestTimeout,
    connectionTimeout: requestTimeout + 5_000,
    keepAliveTimeout: 65_000,
    http: {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 2))),
    },
  };
}

/**
 * The ops listener (`server.ops.port`): /metrics, /readyz and /docs (the API's OpenAPI document) and
 * /healthz, so none of them is served on the webhook port. Build it after `api` is ready.
 */
export async function buildOpsApp({ config, client, logger, api }: AppDeps & { api: HookflowApp }) {
  const ops = Fastify({
    logger: logger ?? false,
    genReqId: requestId,
    ...serverTimeouts(config),
  }).withTypeProvider<ZodTypeProvider>();
  ops.setValidatorCompiler(validatorCompiler);
  ops.setSerializerCompiler(serializerCompiler);
  installErrorHandler(ops);
  await api.ready();
  await serveOpenApiOf(ops, api);
  await ops.register(healthRoutes);
  await ops.register(opsRoutes, { config, client });
  return ops;
}
