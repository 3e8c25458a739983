import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HookflowConfig } from '../config/schema';
import { WEBHOOK_ROUTE } from '../observability/http-metrics';

/**
 * Per-source rate limit on `POST /webhooks/:sourceId` only. The key is the source, not the client IP:
 * a source system sends from many addresses, and it is the source's volume that must be bounded.
 * Over the limit: 429 with Retry-After; the error handler turns it into `{ error: 'rate_limited' }`.
 * Must be installed before the routes are registered (it attaches itself in `onRoute`).
 */
export async function installWebhookRateLimit(app: FastifyInstance, config: HookflowConfig): Promise<void> {
  const perSource = new Map(config.sources.map((s) => [s.id, s.rateLimit ?? config.server.rateLimit]));
  const limitFor = (key: string) => perSource.get(key) ?? config.server.rateLimit;
  const sourceId = (request: FastifyRequest) => (request.params as { sourceId?: string }).sourceId ?? '';

  // Runs before the plugin's own onRoute hook (added by the register below), which reads config.rateLimit.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url !== WEBHOOK_ROUTE || !methods.includes('POST')) return;
    route.config = {
      ...route.config,
      rateLimit: {
        keyGenerator: sourceId,
        max: (_request, key) => limitFor(key).max,
        timeWindow: (_request, key) => limitFor(key).window,
        errorResponseBuilder: (request, context) =>
          Object.assign(new Error(`source "${sourceId(request)}" is over its rate limit of ${context.max} requests; retry in ${context.after}`), {
            statusCode: context.statusCode,
          }),
      },
    };
  });
  await app.register(rateLimit, { global: false });
}
