import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors';
import type { AttemptBody } from '../../shared/delivery';
import { publicView } from '../../subscriptions/seal';
import { subscriptionIdSchema } from '../../subscriptions/schema';
import { attemptsPagePath, deliveryAttempts } from '../../temporal/attempts';
import { deliveriesQuery, latestDeliveries, retryDelivery } from '../../temporal/deliveries';
import { namespaceRetentionMs, retentionWords } from '../../temporal/retention';
import { ChartFiguresCache, subscriptionCharts } from '../charts';
import { readForm } from '../form';
import { guarded, posted } from '../plugins/session';
import { done, flashOf, idOf, type ConsoleContext } from './context';

/** A delivery workflow id in the path of the attempt page; a 404 when it cannot be one. */
const deliveryIdOf = (request: { params: unknown }) => {
  const id = (request.params as { id?: string }).id ?? '';
  if (!/^(delivery|replay)\//.test(id) || id.length > 1000)
    throw Object.assign(new Error('no such delivery'), { statusCode: 404 });
  return id;
};

/** A whole JSON body indented for reading; anything else as received (the template escapes it). */
const shownBody = (body: AttemptBody, contentType: string | undefined) => {
  if (body.encoding === 'text' && !body.truncated && /json/i.test(contentType ?? '')) {
    try {
      return JSON.stringify(JSON.parse(body.content), null, 2);
    } catch {
      // not JSON after all: as received
    }
  }
  return body.content;
};

/** The colour of an attempt's status: delivered green, retried amber, stopped red. */
const tone = (outcome: string) => (outcome === 'delivered' ? 'ok' : outcome === 'retry' ? 'warn' : 'bad');

/** An attempt running or due within seconds: the attempt page reloads itself; one due in hours does not. */
const soon = (pending: { state: string; nextAttemptAt: string | null } | null) =>
  !!pending &&
  (pending.state === 'started' ||
    (pending.nextAttemptAt !== null && Date.parse(pending.nextAttemptAt) - Date.now() < 10_000));

/**
 * A subscription's latest deliveries (with the answer to a Test), Retry of a failed one, and each
 * delivery's attempt log (`/console/deliveries/<url-encoded workflow id>`).
 */
export async function deliveryRoutes(app: FastifyInstance, { config, client, store, ui }: ConsoleContext) {
  const chartFigures = new ChartFiguresCache(client);
  app.get('/console/subscriptions/:id/deliveries', guarded, async (request, reply) => {
    const id = idOf(request);
    const [found, latest, charts] = await Promise.all([
      store.get(id).then(publicView, (err: unknown) => {
        if (err instanceof NotFoundError) return err;
        throw err;
      }),
      latestDeliveries(client, id),
      // The last 24 h as charts; the page is still shown when visibility cannot count them.
      subscriptionCharts(chartFigures, id).catch(() => null),
    ]);
    // A deleted subscription's deliveries stay in Temporal until retention ends: still shown, read-only.
    // One that never had any is simply not there.
    if (found instanceof NotFoundError && latest.length === 0) throw found;
    const subscription = found instanceof NotFoundError ? { id, name: id, deleted: true as const } : found;
    const deliveries = latest.map((d) => ({
      ...d,
      uiUrl: ui.workflow(d.id, d.runId),
      attemptsUrl: attemptsPagePath(d.id),
    }));
    const testParam = (request.query as { test?: unknown }).test;
    const testSince =
      typeof testParam === 'string' && !Number.isNaN(Date.parse(testParam)) ? new Date(testParam).toISOString() : null;
    let test: { state: 'waiting' | 'answered'; row?: (typeof deliveries)[number] } | null = null;
    if (testSince) {
      const row = deliveries.find((d) => d.eventType === 'hookflow.test' && d.startedAt >= testSince);
      test =
        row && (row.lastHttpStatus !== null || row.workflowStatus !== 'RUNNING')
          ? { state: 'answered', row }
          : { state: 'waiting', row };
    }
    return reply.consolePage('deliveries', {
      title: `Deliveries of ${subscription.name}`,
      subscription,
      deliveries,
      charts,
      test,
      // Reload while the test delivery has no answer yet (no script needed; stops once it is answered).
      refresh: test?.state === 'waiting' ? 2 : null,
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
      uiList: ui.list(deliveriesQuery(subscription.id)),
      retention: await namespaceRetentionMs(client, config.temporal.namespace).then((ms) =>
        ms === null ? null : retentionWords(ms),
      ),
    });
  });

  app.get('/console/deliveries/:id', guarded, async (request, reply) => {
    const id = deliveryIdOf(request);
    const log = await deliveryAttempts(client, id);
    const attempts = log.attempts
      .map((a, i, all) => {
        // A retryable failure that ended the delivery: its retry window ran out (or it was stopped).
        const ended = a.outcome === 'retry' && i === all.length - 1 && log.workflowStatus !== 'RUNNING';
        // A Retry (reset) counts attempts from 1 again; the earlier run's attempts stay in the log.
        const afterRetry = i > 0 && a.attempt <= all[i - 1]!.attempt;
        return { ...a, ended, afterRetry };
      })
      .map((a) => ({
        ...a,
        tone: a.ended ? 'bad' : tone(a.outcome),
        label:
          a.outcome === 'delivered'
            ? 'delivered'
            : a.ended
              ? 'not tried again: the retry window ended'
              : a.outcome === 'retry'
                ? 'tried again later'
                : 'not tried again',
        headers: Object.entries(a.headers ?? {}),
        shown: a.body ? shownBody(a.body, a.headers?.['content-type']) : null,
      }))
      .reverse(); // newest first: the answer the operator came for
    return reply.consolePage('deliveries-attempts', {
      title: `Attempts of ${log.eventType ?? 'a delivery'}`,
      log,
      attempts,
      subscriptionUrl: log.subscriptionId ? `/console/subscriptions/${log.subscriptionId}/deliveries` : null,
      uiUrl: ui.workflow(id, log.runId),
      // While an attempt runs the page reloads by itself (no script); a delivery waiting for hours does not.
      refresh: soon(log.pending) ? 2 : null,
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
    });
  });

  app.post('/console/deliveries/retry', posted(app), async (request, reply) => {
    const { values } = readForm(request.body);
    const id = values.delivery ?? '';
    const back = subscriptionIdSchema.safeParse(values.subscription);
    if (!id.startsWith('delivery/') || !back.success)
      throw Object.assign(new Error('not a delivery of a subscription'), { statusCode: 400 });
    await retryDelivery(client, config.temporal.namespace, id, 'retry from the console');
    return done(reply, `/console/subscriptions/${back.data}/deliveries`, `Retrying ${id}.`);
  });
}
