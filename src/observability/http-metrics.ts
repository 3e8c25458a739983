import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { HookflowConfig } from '../config/schema';
import { METRICS_CONTENT_TYPE, apiMetrics, defaultRegistry, renderMetrics } from './metrics';
import { UNKNOWN_SOURCE } from './rejections';

export interface WebhookMetrics {
  /**
   * A request's notifications: `started` new workflows and `duplicates` repeats of earlier ones;
   * `filtered` of the started ones the source's filter drops (not known for an envelope's).
   */
  countAccepted(sourceId: string, started: number, duplicates: number, filtered?: number): void;
  /** A request's credentials were accepted: `secret` is the label of the one that matched, never its value. */
  countVerified(sourceId: string, secret: string): void;
}

/**
 * Webhook counters. Called inside the webhook route plugin: its hook sees only the webhook route
 * (encapsulation), and the route reports what it accepted. Rejections are counted, by reason, where they
 * are also listed: src/api/plugins/rejections.ts.
 */
export function installWebhookMetrics(
  app: FastifyInstance,
  config: HookflowConfig,
  registry: Registry = defaultRegistry,
): WebhookMetrics {
  const m = apiMetrics(registry);
  const known = new Set(config.sources.map((s) => s.id));
  const sourceLabel = (request: FastifyRequest): string => {
    const { sourceId } = request.params as { sourceId?: string };
    return sourceId && known.has(sourceId) ? sourceId : UNKNOWN_SOURCE;
  };

  app.addHook('onResponse', async (request, reply) => {
    const source = sourceLabel(request);
    m.received.inc({ source });
    // Refusals are counted with their reason by src/api/plugins/rejections.ts, which also lists them.
    if (reply.statusCode === 202) m.ackDuration.observe({ source }, reply.elapsedTime / 1000);
  });

  return {
    countAccepted(sourceId, started, duplicates, filtered = 0) {
      m.accepted.inc({ source: sourceId }, started);
      if (duplicates) m.duplicates.inc({ source: sourceId }, duplicates);
      if (filtered) m.filtered.inc({ source: sourceId }, filtered);
    },
    countVerified(sourceId, secret) {
      m.verified.inc({ source: sourceId, secret });
    },
  };
}

/** `GET /metrics` (Prometheus text format); served by the ops routes (src/api/routes/ops.ts). */
export function metricsRoute(app: FastifyInstance, registry: Registry = defaultRegistry): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(METRICS_CONTENT_TYPE).send(await renderMetrics(registry)),
  );
}
