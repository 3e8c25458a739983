import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { BULK_RETRY_JOB_PATTERN } from '../../shared/bulk-retry';
import {
  bulkRetryRequestSchema,
  bulkRetryStatus,
  filtersOf,
  previewBulkRetry,
  startBulkRetry,
} from '../../temporal/bulk-retry';
import { namespaceRetentionMs, retentionWords } from '../../temporal/retention';
import { inWords, readForm, type FieldErrors, type FormValues } from '../form';
import { guarded, posted } from '../plugins/session';
import { idOf, type ConsoleContext } from './context';

/** Form fields of the bulk retry (`from`/`to` as datetime-local, in UTC). */
const FIELDS = ['from', 'to', 'eventTypes', 'httpStatus', 'key'] as const;

/** A datetime-local value (no zone) is read as UTC, as the console shows every time. */
const instant = (text: string | undefined) => {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${t.length === 16 ? `${t}:00` : t}Z` : t;
};

/** The form as the API's request; errors by field, in words. */
function parseFilters(v: FormValues) {
  const types = (v.eventTypes ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const status = (v.httpStatus ?? '').trim();
  const candidate = {
    status: 'failed',
    ...(instant(v.from) ? { from: instant(v.from) } : {}),
    ...(instant(v.to) ? { to: instant(v.to) } : {}),
    ...(types.length ? { eventTypes: types } : {}),
    ...(status ? { httpStatus: /^\d+$/.test(status) ? Number(status) : status } : {}),
    ...(v.key ? { key: v.key } : {}),
  };
  const result = bulkRetryRequestSchema.safeParse(candidate);
  if (result.success) return { ok: true as const, request: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    const name = (FIELDS as readonly string[]).includes(field) ? field : 'form';
    errors[name] ??=
      issue.code === 'invalid_format' && (field === 'from' || field === 'to')
        ? 'a date and time, such as 2026-12-04T09:00 (UTC)'
        : issue.code === 'invalid_type' && field === 'httpStatus'
          ? 'an HTTP status, such as 503'
          : inWords(issue);
  }
  return { ok: false as const, errors };
}

/** What the page shows of a filter set. */
const valuesOfQuery = (query: unknown): FormValues =>
  Object.fromEntries(
    FIELDS.map((f) => [
      f,
      typeof (query as Record<string, unknown>)[f] === 'string' ? (query as Record<string, string>)[f]! : '',
    ]),
  );

/**
 * Bulk retry in the console: the filters (from the deliveries page), the preview count, the start (the
 * key in the form makes a double submit the same job), then the job's progress, reloading until done.
 */
export async function bulkRetryRoutes(app: FastifyInstance, { config, client, store }: ConsoleContext) {
  const retention = async () => {
    const ms = await namespaceRetentionMs(client, config.temporal.namespace);
    return ms === null ? null : retentionWords(ms);
  };

  app.get('/console/subscriptions/:id/retry', guarded, async (request, reply) => {
    const id = idOf(request);
    const subscription = await store.get(id);
    const values = valuesOfQuery(request.query);
    const parsed = parseFilters(values);
    const preview = parsed.ok ? await previewBulkRetry(client, id, filtersOf(parsed.request)) : null;
    return reply.consolePage(
      'bulk-retry',
      {
        title: `Retry failed deliveries of ${subscription.name}`,
        subscription,
        values: { ...values, key: randomUUID() },
        errors: parsed.ok ? {} : parsed.errors,
        preview,
        retention: await retention(),
        csrf: reply.generateCsrf(),
      },
      parsed.ok ? 200 : 400,
    );
  });

  app.post('/console/subscriptions/:id/retry', posted(app), async (request, reply) => {
    const id = idOf(request);
    const subscription = await store.get(id);
    const { values } = readForm(request.body);
    const parsed = parseFilters(values);
    if (!parsed.ok) {
      return reply.consolePage(
        'bulk-retry',
        {
          title: `Retry failed deliveries of ${subscription.name}`,
          subscription,
          values,
          errors: parsed.errors,
          preview: null,
          retention: await retention(),
          csrf: reply.generateCsrf(),
        },
        400,
      );
    }
    const job = await startBulkRetry(client, config, id, filtersOf(parsed.request), parsed.request.key);
    return reply.redirect(`/console/subscriptions/${id}/retry/${job.jobId}`, 303);
  });

  app.get('/console/subscriptions/:id/retry/:jobId', guarded, async (request, reply) => {
    const id = idOf(request);
    const jobId = (request.params as { jobId?: string }).jobId ?? '';
    if (!BULK_RETRY_JOB_PATTERN.test(jobId)) throw Object.assign(new Error('no such bulk retry'), { statusCode: 404 });
    const job = await bulkRetryStatus(client, id, jobId);
    const running = job.workflowStatus === 'RUNNING';
    return reply.consolePage('bulk-retry-progress', {
      title: running ? 'Retrying failed deliveries…' : 'Bulk retry finished',
      subscription: { id },
      job,
      running,
      // Reloads itself while the job runs (no script); stops once it is done.
      refresh: running ? 2 : null,
      retention: await retention(),
    });
  });
}
