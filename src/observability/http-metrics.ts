import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { HookflowConfig } from '../config/schema';
import { METRICS_CONTENT_TYPE, apiMetrics, defaultRegistry, processMetrics, renderMetrics } from './metrics';

export const WEBHOOK_ROUTE = '/webhooks/:sourceId';

/** Label for requests to ids that are not configured: any string would be a label an attacker can mint. */
const UNKNOWN_SOURCE = '(unknown)';

/** The same codes the error handler answers with, derived from the status so no route has to report them. */
export function rejectionReason(status: number): string {
  const reasons: Record<number, string> = {
    400: 'invalid_payload',
    401: 'unauthorized',
    404: 'not_found',
    408: 'request_timeout',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    429: 'rate_limited',
    503: 'unavailable',
  };
  return reasons[status] ?? (status >= 500 ? 'server_error' : 'client_error');
}

/**
 * Webhook counters from Fastify hooks (route files stay as they are). Must be
 * installed before the routes are registered: hooks apply to routes registered after them.
 */
export function installHttpMetrics(app: FastifyInstance, config: HookflowConfig, registry: Registry = defaultRegistry): void {
  const m = apiMetrics(registry);
  processMetrics(registry);
  const known = new Set(config.sources.map((s) => s.id));
  const sourceLabel = (request: FastifyRequest): string | undefined => {
    if (request.method !== 'POST' || request.routeOptions.url !== WEBHOOK_ROUTE) return undefined;
    const { sourceId } = request.params as { sourceId?: string };
    return sourceId && known.has(sourceId) ? sourceId : UNKNOWN_SOURCE;
  };

  // The 202 body lists each notification and whether it was a duplicate; this is the one place it is an object.
  app.addHook('preSerialization', async (request, reply, payload) => {
    const source = sourceLabel(request);
    if (source && reply.statusCode === 202) {
      const { events = [], envelope, accepted = 0 } = payload as { events?: Array<{ duplicate?: boolean }>; envelope?: { duplicate: boolean }; accepted?: number };
      // A large request: its notifications are started by the envelope workflow, counted here as accepted.
      const duplicates = envelope ? (envelope.duplicate ? accepted : 0) : events.filter((e) => e.duplicate).length;
      m.accepted.inc({ source }, (envelope ? accepted : events.length) - duplicates);
      if (duplicates) m.duplicates.inc({ source }, duplicates);
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const source = sourceLabel(request);
    if (!source) return;
    m.received.inc({ source });
    if (reply.statusCode === 202) m.ackDuration.observe({ source }, reply.elapsedTime / 1000);
    else if (reply.statusCode >= 400) m.rejected.inc({ source, reason: rejectionReason(reply.statusCode) });
  });
}

/** `GET /metrics` (Prometheus text format); served by the ops routes (src/api/routes/ops.ts). */
export function metricsRoute(app: FastifyInstance, registry: Registry = defaultRegistry): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(METRICS_CONTENT_TYPE).send(await renderMetrics(registry)));
}
