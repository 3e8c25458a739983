import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig, SourceConfig } from '../../config/schema';
import { InvalidPayloadError, NotFoundError, UnauthorizedError } from '../../errors';
import { planFollowUp } from '../../sources/follow-up-url';
import { sourceKindOf, type WebhookRequest } from '../../sources';
import type { InboundWorkflowInput } from '../../shared/inbound';
import { eventUuid } from '../event-uuid';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth';
import { startInbound } from '../start-inbound';

export interface WebhookRouteDeps {
  config: HookflowConfig;
  client: Client;
}

const JSON_TYPES = /^application\/(?:[\w.+-]+\+)?json$/;

const acceptedSchema = z.object({
  accepted: z.number().int().describe('notifications in the request'),
  events: z.array(z.object({ eventKey: z.string(), workflowId: z.string(), duplicate: z.boolean() })),
});

/**
 * `POST /webhooks/:sourceId`: the callback URL registered in a source system. Order of checks: unknown
 * source 404, content type 415, size 413, credentials 401 (over the raw bytes), JSON/schema 400; only
 * then are workflows started, and 202 is sent once Temporal has durably accepted every one of them.
 */
export const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteDeps> = async (app, { config, client }) => {
  const sources = new Map(config.sources.map((s) => [s.id, s]));

  // Keep the exact bytes: signatures are computed over them, not over re-serialised JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.decorateRequest('source', null);
  app.addHook('onRequest', async (request) => {
    const { sourceId } = request.params as { sourceId?: string };
    const source = sourceId ? sources.get(sourceId) : undefined;
    if (!source) throw new NotFoundError(`unknown source "${sourceId ?? ''}"`);
    request.source = source;
  });

  app.post(
    '/webhooks/:sourceId',
    {
      schema: {
        summary: 'Receive a webhook from a configured source system',
        params: z.object({ sourceId: z.string() }),
        querystring: z.looseObject({ key: z.string().optional() }),
        response: { 202: acceptedSchema },
      },
    },
    async (request, reply) => {
      const source = request.source as SourceConfig;
      const rawBody = request.body;
      if (!Buffer.isBuffer(rawBody)) throw new InvalidPayloadError('the request has no JSON body');
      const webhook: WebhookRequest = { rawBody, headers: request.headers, query: request.query, receivedAt: new Date() };
      const kind = sourceKindOf(source);

      const refusal = kind.verify(webhook, source);
      if (refusal) throw new UnauthorizedError(refusal);

      let body: unknown;
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch (err) {
        throw new InvalidPayloadError(`body is not valid JSON: ${(err as Error).message}`);
      }
      if (nestsDeeperThan(body)) throw new InvalidPayloadError(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
      const notifications = kind.parse(body, webhook, source);

      const events = await Promise.all(
        notifications.map(async ({ templateVars, ...notification }) => {
          const input: InboundWorkflowInput = {
            event: {
              ...notification,
              uuid: eventUuid(`${source.id}/${notification.eventKey}`),
              sourceId: source.id,
              sourceKind: source.kind,
              receivedAt: webhook.receivedAt.toISOString(),
            },
            filter: source.filter,
            followUp: planFollowUp(source, notification.eventType, templateVars),
          };
          const started = await startInbound(client, config, input);
          return { eventKey: notification.eventKey, ...started };
        }),
      );
      request.log.info({ sourceId: source.id, events: events.length, duplicates: events.filter((e) => e.duplicate).length }, 'webhook accepted');
      return reply.status(202).send({ accepted: events.length, events });
    },
  );
};

declare module 'fastify' {
  interface FastifyRequest {
    source: SourceConfig | null;
  }
}
