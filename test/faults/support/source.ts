import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { Pool } from 'undici';
import { sign } from '../../support/signatures';

/**
 * The source side of the fault tests: Extend Commerce webhooks, signed as Extend signs them, sent the
 * way a source does (retrying on 503, 429 and connection errors until it gets its 2xx).
 */

export interface Webhook {
  notificationId: string;
  body: string;
  headers: Record<string, string>;
}

/** A one-notification OrderCreated webhook, signed `ms-signature: sha256=<HEX>` over the exact body. */
export function extendWebhook(secret: string, notificationId: string): Webhook {
  const body = JSON.stringify({
    Id: notificationId.replace(/-/g, ''),
    Attempt: 1,
    Properties: { NotificationId: notificationId },
    Notifications: [
      { Action: 'OrderCreated', Details: { OrderNumber: `SO-${notificationId.slice(0, 8)}`, Warehouse: 'W1' } },
    ],
  });
  const signature = sign.ms(secret, body);
  return { notificationId, body, headers: { 'content-type': 'application/json', 'ms-signature': signature } };
}

/** hookflow's event id of the webhook's only notification (`<sourceId>/<NotificationId>-<index>`). */
export const extendEventId = (sourceId: string, notificationId: string) => `${sourceId}/${notificationId}-0`;

export interface PostOutcome {
  /** 0 when the connection failed. */
  status: number;
  ms: number;
  headers: IncomingHttpHeaders;
  body: string;
  error?: string;
}

/** One POST; a connection failure is an outcome (status 0), not an exception. */
export async function postOnce(pool: Pool, apiUrl: string, path: string, webhook: Webhook): Promise<PostOutcome> {
  const t0 = performance.now();
  try {
    const res = await pool.request({
      method: 'POST',
      path,
      headers: webhook.headers,
      body: webhook.body,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const body = await res.body.text();
    return { status: res.statusCode, ms: performance.now() - t0, headers: res.headers, body };
  } catch (err) {
    return {
      status: 0,
      ms: performance.now() - t0,
      headers: {},
      body: '',
      error: `${apiUrl}${path}: ${(err as Error).message}`,
    };
  }
}

/** What the source saw while sending. */
export class SendStats {
  attempts = 0;
  connectionErrors = 0;
  status503 = 0;
  status429 = 0;
  /** 202 answers that said the notification was already accepted (a retry after a lost answer). */
  duplicateAcks = 0;
  /** Notifications the source gave up on (the deadline passed): must stay empty. */
  gaveUp: string[] = [];
  /** Answers no source should ever see for a valid webhook (4xx, other 5xx, unparseable 202). */
  unexpected: Array<{ notificationId: string; status: number; body: string }> = [];
}

/**
 * Sends until a 202, as a source does: 503 and 429 (honouring Retry-After, capped) and connection
 * errors are retried. Returns false if the deadline passed or the answer was one that is never retried.
 */
export async function postUntilAccepted(
  pool: Pool,
  apiUrl: string,
  path: string,
  webhook: Webhook,
  stats: SendStats,
  deadline: number,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    stats.attempts++;
    const outcome = await postOnce(pool, apiUrl, path, webhook);
    if (outcome.status === 202) {
      try {
        const answer = JSON.parse(outcome.body) as { events: Array<{ duplicate: boolean }> };
        if (answer.events.some((e) => e.duplicate)) stats.duplicateAcks++;
        return true;
      } catch {
        stats.unexpected.push({
          notificationId: webhook.notificationId,
          status: 202,
          body: outcome.body.slice(0, 300),
        });
        return false;
      }
    }
    let waitMs = Math.min(250 * attempt, 2000);
    if (outcome.status === 0) stats.connectionErrors++;
    else if (outcome.status === 503 || outcome.status === 429) {
      if (outcome.status === 503) stats.status503++;
      else stats.status429++;
      const retryAfter = Number(outcome.headers['retry-after']);
      if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.min(retryAfter * 1000, 2000);
    } else {
      stats.unexpected.push({
        notificationId: webhook.notificationId,
        status: outcome.status,
        body: outcome.body.slice(0, 300),
      });
      return false;
    }
    if (Date.now() + waitMs > deadline) {
      stats.gaveUp.push(webhook.notificationId);
      return false;
    }
    await sleep(waitMs);
  }
}
