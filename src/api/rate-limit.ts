import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HookflowConfig } from '../config/schema';
import { RateLimitedError } from '../errors';

export interface WebhookRateLimits {
  /** 429 for a client address over its failure limit: only for requests that failed (unknown source, bad credentials). */
  refuseBlockedClient(request: FastifyRequest): Promise<void>;
  /** A request refused as unauthenticated (401) or for an unknown source (404): counted per client address. */
  countFailure(request: FastifyRequest): Promise<void>;
  /** After authentication: 429 when the request's source has used up its window. */
  refuseSourceOverLimit(request: FastifyRequest): Promise<void>;
  /** After authentication: the request's notifications count against its source. */
  countNotifications(request: FastifyRequest, notifications: number): Promise<void>;
}

/**
 * The webhook routes' two limits, with @fastify/rate-limit registered inside the webhook route plugin
 * (encapsulated: no other route sees it) and used through `createRateLimit`, which can read a counter
 * without counting:
 * - per source (`server.rateLimit`, `sources[].rateLimit`): notifications of authenticated requests only.
 *   A source with budget left is served whatever the size of its request; its notifications are then
 *   counted, and once the window is used up the source gets 429 + Retry-After until the window ends.
 * - per client address (`server.authFailureLimit`): unauthenticated failures only (401, unknown source).
 *   Over it the address's failing requests get 429 instead; a request with valid credentials is served
 *   whatever the failures from its address (a shared NAT or proxy), and nothing touches a source's
 *   budget, so nobody without the source's credentials can make its webhooks refused. The address is
 *   the peer's, or from X-Forwarded-For when the peer is one of `server.trustedProxies`.
 */
export async function installWebhookRateLimits(
  app: FastifyInstance,
  config: HookflowConfig,
): Promise<WebhookRateLimits> {
  const perSource = new Map(config.sources.map((s) => [s.id, s.rateLimit ?? config.server.rateLimit]));
  const limitFor = (sourceId: string) => perSource.get(sourceId) ?? config.server.rateLimit;
  const sourceId = (request: FastifyRequest) => request.source?.id ?? '';

  await app.register(rateLimit, { global: false });
  const failures = app.createRateLimit({
    max: config.server.authFailureLimit.max,
    timeWindow: config.server.authFailureLimit.window,
  });
  const notifications = app.createRateLimit({
    keyGenerator: sourceId,
    max: (_request, key) => limitFor(key).max,
    timeWindow: (_request, key) => limitFor(key).window,
  });

  return {
    async refuseBlockedClient(request) {
      const state = await failures(request, { increment: false });
      if (!state.isAllowed && state.remaining === 0) {
        throw new RateLimitedError(
          `too many failed requests from ${request.ip}; retry in ${state.ttlInSeconds} s`,
          Math.max(1, state.ttlInSeconds),
        );
      }
    },
    async countFailure(request) {
      await failures(request);
    },
    async refuseSourceOverLimit(request) {
      const state = await notifications(request, { increment: false });
      if (!state.isAllowed && state.remaining === 0) {
        throw new RateLimitedError(
          `source "${sourceId(request)}" is over its rate limit of ${state.max} notifications per ${state.timeWindow / 1000} s; retry in ${state.ttlInSeconds} s`,
          Math.max(1, state.ttlInSeconds),
        );
      }
    },
    async countNotifications(request, count) {
      // One count per notification; past the limit more counting changes nothing.
      for (let i = 0; i < count; i++) {
        const state = await notifications(request);
        if (!state.isAllowed && state.remaining === 0) break;
      }
    },
  };
}
