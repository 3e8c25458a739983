import { MIMEType, promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig } from '../../config/schema';
import {
  InvalidPayloadError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../errors';
import { sourceKindOf, type ParsedNotification, type SourceConfig, type WebhookRequest } from '../../sources';
import { inboundInput } from '../../sources/inbound-input';
import { envelopeWorkflowId, type EnvelopeInput } from '../../shared/envelope';
import { filterRejection } from '../../shared/filter';
import { SA } from '../../shared/search-attributes';
import type { envelopeWorkflow } from '../../workflows/envelope';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth';
import { startInbound } from '../../temporal/start-inbound';
import { startDurably } from '../../temporal/start-durably';
import { installWebhookRateLimits } from '../rate-limit';
import { installWebhookMetrics } from '../../observability/http-metrics';
import { markVerification } from '../../observability/request-spans';

export interface WebhookRouteDeps {
  config: HookflowConfig;
  client: Client;
}

/**
 * `application/json` is found by Fastify by its media type whatever the parameters; `application/<x>+json`
 * by this pattern over Fastify's normalised header (lower-case `type/subtype`, then `; name="value"`).
 */
const STRUCTURED_JSON = /^application\/[\w!#$&^.-]+\+json(?:;|$)/;
const UTF8 = new Set(['utf-8', 'utf8']);
const gzipAsync = promisify(gzip);

/**
 * Temporal refuses payloads over 2 MB (its default blob size limit): an envelope is carried into
 * Temporal as one payload (the raw body gzipped, as bytes), so a body compressing to more cannot be split
 * there. With the default 1 MiB body limit this cannot happen.
 */
export const ENVELOPE_MAX_BYTES = 2_000_000;

/** The charset parameter, if any (names and values are case-insensitive). */
function charsetOf(contentType: string | undefined): string | undefined {
  try {
    return contentType ? new MIMEType(contentType).params.get('charset')?.toLowerCase() : undefined;
  } catch {
    return undefined; // Fastify already accepted the header's syntax; nothing to add here
  }
}

const eventSchema = z.object({ eventKey: z.string(), workflowId: z.string(), duplicate: z.boolean() });
const acceptedSchema = z.object({
  accepted: z.number().int().describe('notifications in the request'),
  events: z.array(eventSchema).describe('one per notification; empty when an envelope workflow starts them'),
  envelope: z
    .object({ workflowId: z.string(), duplicate: z.boolean() })
    .optional()
    .describe(`requests with more notifications than server.envelopes.splitAbove: the workflow that starts them`),
});

/**
 * `POST /webhooks/:sourceId`: the callback URL registered in a source system. Order of checks: unknown
 * source 404 (429 for a client address over its failure limit), content type and charset 415, size 413,
 * credentials 401 (429 for a client address over its failure limit; valid credentials are never refused
 * for it), source over its rate limit 429, JSON/schema 400, too many
 * notifications 413; only then are workflows started, and 202 is sent once Temporal has durably
 * accepted every one of them (or, for a large request, the one envelope workflow that starts them).
 */
export const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteDeps> = async (app, { config, client }) => {
  const sources = new Map(config.sources.map((s) => [s.id, s]));
  const { splitAbove, maxNotifications } = config.server.envelopes;

  // Keep the exact bytes: signatures are computed over them, not over re-serialised JSON.
  app.removeAllContentTypeParsers();
  const keepBytes = (
    request: { headers: Record<string, unknown> },
    body: Buffer,
    done: (err: Error | null, body?: Buffer) => void,
  ) => {
    const charset = charsetOf(request.headers['content-type'] as string | undefined);
    if (charset !== undefined && !UTF8.has(charset))
      return done(new UnsupportedMediaTypeError(`charset "${charset}" is not supported: send JSON in UTF-8`));
    done(null, body);
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, keepBytes);
  app.addContentTypeParser(STRUCTURED_JSON, { parseAs: 'buffer' }, keepBytes);

  app.decorateRequest('source', null);
  const limits = await installWebhookRateLimits(app, config);
  const metrics = installWebhookMetrics(app, config);
  app.addHook('onRequest', async (request) => {
    const { sourceId } = request.params as { sourceId?: string };
    const source = sourceId ? sources.get(sourceId) : undefined;
    if (!source) {
      await limits.refuseBlockedClient(request);
      await limits.countFailure(request);
      throw new NotFoundError(`unknown source "${sourceId ?? ''}"`);
    }
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
      const webhook: WebhookRequest = {
        rawBody,
        headers: request.headers,
        query: request.query,
        receivedAt: new Date(),
      };
      const kind = sourceKindOf(source);

      // Credentials first: a request that carries valid ones is never refused for the failures of others
      // from the same address (a shared NAT or proxy); only unauthenticated ones meet the failure limit.
      const verdict = kind.verify(webhook, source);
      markVerification(!('refused' in verdict));
      if ('refused' in verdict) {
        await limits.refuseBlockedClient(request);
        await limits.countFailure(request);
        throw new UnauthorizedError(verdict.refused);
      }
      metrics.countVerified(source.id, verdict.secret);
      await limits.refuseSourceOverLimit(request);

      let notifications: ParsedNotification[];
      try {
        let body: unknown;
        try {
          // RFC 8259 lets a parser ignore a byte order mark; the signature above covered it as sent.
          body = JSON.parse(rawBody.toString('utf8').replace(/^\uFEFF/, ''));
        } catch (err) {
          throw new InvalidPayloadError(`body is not valid JSON: ${(err as Error).message}`);
        }
        if (nestsDeeperThan(body)) throw new InvalidPayloadError(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
        notifications = kind.parse(body, webhook, source);
      } catch (err) {
        await limits.countNotifications(request, 1);
        throw err;
      }
      if (notifications.length > maxNotifications) {
        await limits.countNotifications(request, 1); // refused: counts as one request, like a 400
        throw new PayloadTooLargeError(
          `${notifications.length} notifications in one request; at most ${maxNotifications} are accepted (server.envelopes.maxNotifications)`,
        );
      }
      await limits.countNotifications(request, notifications.length);

      if (notifications.length > splitAbove) {
        // Compressed: JSON envelopes shrink about 10-20 times, far below Temporal's payload limits.
        const compressed = await gzipAsync(rawBody);
        if (compressed.length > ENVELOPE_MAX_BYTES)
          throw new PayloadTooLargeError(
            `this request compresses to ${compressed.length} bytes; at most ${ENVELOPE_MAX_BYTES} fit into Temporal (its payload limit)`,
          );
        const input: EnvelopeInput = {
          sourceId: source.id,
          receivedAt: webhook.receivedAt.toISOString(),
          notifications: notifications.length,
        };
        const envelope = await startDurably<typeof envelopeWorkflow>(
          client,
          'envelopeWorkflow',
          {
            taskQueue: config.temporal.taskQueue,
            workflowId: envelopeWorkflowId(source.id, notifications[0]!.eventKey, notifications.length),
            args: [input, new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.byteLength)],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            typedSearchAttributes: [
              { key: SA.source, value: source.id },
              { key: SA.sourceKind, value: source.kind },
              { key: SA.status, value: 'received' },
            ],
          },
          config.server.ackTimeout,
        );
        request.log.info(
          {
            sourceId: source.id,
            notifications: notifications.length,
            envelope: envelope.workflowId,
            duplicate: envelope.duplicate,
          },
          'envelope accepted',
        );
        // Its notifications are started by the envelope workflow: counted here as accepted (or as repeats).
        metrics.countAccepted(
          source.id,
          envelope.duplicate ? 0 : notifications.length,
          envelope.duplicate ? notifications.length : 0,
        );
        return reply.status(202).send({ accepted: notifications.length, events: [], envelope });
      }

      let filtered = 0;
      const events = await Promise.all(
        notifications.map(async (notification, position) => {
          const input = inboundInput(source, notification, webhook.receivedAt, position);
          const started = await startInbound(client, config, input);
          // The inbound workflow drops it by the same pure check (metrics only; the workflow decides).
          if (!started.duplicate && filterRejection(input.event, input.filter)) filtered++;
          return { eventKey: notification.eventKey, ...started };
        }),
      );
      const duplicates = events.filter((e) => e.duplicate).length;
      request.log.info({ sourceId: source.id, events: events.length, duplicates }, 'webhook accepted');
      metrics.countAccepted(source.id, events.length - duplicates, duplicates, filtered);
      return reply.status(202).send({ accepted: events.length, events });
    },
  );
};

declare module 'fastify' {
  interface FastifyRequest {
    source: SourceConfig | null;
  }
}
