import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { HookflowConfig } from '../../config/schema';
import { apiMetrics } from '../../observability/metrics';
import { RejectionLog, UNKNOWN_SOURCE, rejectionMessage, rejectionReason } from '../../observability/rejections';

/** The webhook routes (src/api/routes/webhooks.ts): the only ones whose refusals are listed. */
const WEBHOOK_ROUTE = /^\/webhooks\//;

/**
 * Refused webhooks, counted (`hookflow_webhooks_rejected_total{source, reason}`) and kept in the app's
 * RejectionLog (`app.webhookRejections`, read by GET /api/rejections and /console/rejections). Registered
 * before the webhook routes, without encapsulation so the log is visible to the admin API and the console;
 * its hooks act on webhook routes only.
 */
export const webhookRejections = fp<{ config: HookflowConfig }>(
  async (app, { config }) => {
    const log = new RejectionLog();
    app.decorate('webhookRejections', log);
    const metrics = apiMetrics();
    const known = new Set(config.sources.map((s) => s.id));
    const errors = new WeakMap<FastifyRequest, unknown>();
    const isWebhook = (request: FastifyRequest) => WEBHOOK_ROUTE.test(request.routeOptions.url ?? '');

    app.addHook('onError', async (request, _reply, error) => {
      if (isWebhook(request)) errors.set(request, error);
    });
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode < 400 || !isWebhook(request)) return;
      const { sourceId } = request.params as { sourceId?: string };
      const source = sourceId && known.has(sourceId) ? sourceId : UNKNOWN_SOURCE;
      const reason = rejectionReason(reply.statusCode, reply.errorCode);
      metrics.rejected.inc({ source, reason });
      log.add({
        at: new Date().toISOString(),
        source,
        reason,
        status: reply.statusCode,
        clientAddress: request.ip,
        requestId: String(request.id),
        message: rejectionMessage(errors.get(request), reply.statusCode),
      });
    });
  },
  { name: 'webhook-rejections' },
);
