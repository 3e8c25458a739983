import type { FastifyInstance } from 'fastify';
import { InvalidPayloadError } from '../../errors';
import { eventConsolePath, eventDetail, listEvents, type EventPage } from '../../temporal/event-log';
import {
  DELIVERY_STATUSES,
  INBOUND_STATUSES,
  parseEventSearch,
  type RawEventSearch,
} from '../../temporal/event-log-query';
import { guarded } from '../plugins/session';
import type { ConsoleContext } from './context';

const FIELDS = ['entity', 'source', 'type', 'status', 'subscription', 'from', 'to'] as const;
/** Kept from page to page, not in the form: the page size (a link may set it). */
const KEPT = [...FIELDS, 'pageSize'] as const;

/** The search form's values as typed (strings only: a repeated parameter counts as its first). */
function valuesOf(query: unknown): Record<string, string> {
  const raw = (query ?? {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const name of [...KEPT, 'cursor']) {
    const v = Array.isArray(raw[name]) ? (raw[name] as unknown[])[0] : raw[name];
    if (typeof v === 'string' && v.trim()) values[name] = v.trim();
  }
  return values;
}

/** The address of this search on another page (the cursor's next one), filters kept. */
const searchPath = (values: Record<string, string>, cursor?: string) => {
  const params = new URLSearchParams();
  for (const name of KEPT) if (values[name]) params.set(name, values[name]);
  if (cursor) params.set('cursor', cursor);
  const q = params.toString();
  return `/console/events${q ? `?${q}` : ''}`;
};

/** The event log: search by what the operator knows, and one event with its notification and deliveries. */
export async function eventRoutes(app: FastifyInstance, { config, client, ui }: ConsoleContext) {
  app.get('/console/events', guarded, async (request, reply) => {
    const values = valuesOf(request.query);
    let page: EventPage = { events: [], nextCursor: null };
    const errors: Record<string, string> = {};
    try {
      page = await listEvents(client, parseEventSearch(values as RawEventSearch));
    } catch (err) {
      if (!(err instanceof InvalidPayloadError)) throw err;
      const [detail] = (err.details as Array<{ path: string; message: string }> | undefined) ?? [];
      errors[detail?.path ?? 'entity'] = detail?.message ?? err.message;
    }
    const searched = FIELDS.some((name) => values[name]);
    return reply.consolePage(
      'events',
      {
        title: 'Events',
        values,
        errors,
        searched,
        events: page.events.map((e) => ({ ...e, url: e.workflowId ? eventConsolePath(e.workflowId) : null })),
        nextUrl: page.nextCursor ? searchPath(values, page.nextCursor) : null,
        firstUrl: values.cursor ? searchPath(values) : null,
        sources: config.sources.map((s) => s.id),
        statuses: { inbound: INBOUND_STATUSES, delivery: DELIVERY_STATUSES },
        csrf: reply.generateCsrf(),
      },
      Object.keys(errors).length ? 400 : 200,
    );
  });

  app.get('/console/events/:workflowId', guarded, async (request, reply) => {
    const { workflowId } = request.params as { workflowId: string };
    if (!workflowId.startsWith('inbound/')) return reply.consoleNotFound();
    const event = await eventDetail(client, workflowId);
    return reply.consolePage('events-detail', {
      title: `Event ${event.type ?? ''} ${event.entity ?? ''}`.replace(/\s+/g, ' ').trim(),
      event,
      notification: JSON.stringify(event.notification, null, 2),
      followUp: event.followUp === null ? null : JSON.stringify(event.followUp, null, 2),
      uiUrl: ui.workflow(event.workflowId!, event.runId ?? undefined),
      csrf: reply.generateCsrf(),
    });
  });
}
