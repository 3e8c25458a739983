import type { Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HookflowConfig } from '../../config/schema';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import type { SubscriptionStore } from '../../subscriptions/store';
import type { webUi } from '../web-ui';

/** What the console's page groups are given. */
export interface ConsoleContext {
  config: HookflowConfig;
  client: Client;
  store: SubscriptionStore;
  ui: ReturnType<typeof webUi>;
}

/** The subscription id in the path; a 404 when it cannot be one. */
export const idOf = (request: FastifyRequest) => {
  const parsed = subscriptionIdSchema.safeParse((request.params as { id: string }).id);
  if (!parsed.success) throw Object.assign(new Error('no such subscription'), { statusCode: 404 });
  return parsed.data;
};

/** The confirmation shown after a redirect (`?done=`). */
export const flashOf = (request: FastifyRequest) => {
  const f = (request.query as { done?: unknown }).done;
  // Only the console's own messages: a link cannot put words of its choosing on the page.
  return typeof f === 'string' &&
    /^(Created|Saved|Enabled|Disabled|Deleted|Retrying|Skipped|Held|Released) [\w/.:@-]{1,300}\.$/.test(f)
    ? f
    : null;
};

/** Redirects after a successful post, with its confirmation. */
export const done = (reply: FastifyReply, path: string, message: string) =>
  reply.redirect(`${path}?done=${encodeURIComponent(message)}`, 303);
