import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { InvalidPayloadError, NotFoundError } from '../errors';
import type { InboundWorkflowInput, InboundWorkflowResult } from '../shared/inbound';
import { SA } from '../shared/search-attributes';
import { failureMessage } from './data-converter';
import {
  contradicts,
  deliveriesOfEvents,
  deliverySideQuery,
  encodeCursor,
  inboundQuery,
  inboundWorkflows,
  onDeliverySide,
  type EventSearch,
} from './event-log-query';

/**
 * The event log: inbound events and their deliveries, read from Temporal only (visibility, describe
 * and history; never a workflow query, which would wait for a workflow task). A page is one visibility
 * list of inbound workflows (or of deliveries, when a subscription or a delivery status is asked for)
 * plus one list of the page's deliveries, whatever the page size. Used by the API and the console.
 */

type RawExecution = temporal.api.workflow.v1.IWorkflowExecutionInfo;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

/** One delivery of an event, as visibility (or describe, for a running one) has it. */
export interface EventDelivery {
  workflowId: string;
  runId: string;
  subscriptionId: string | null;
  status: string | null;
  workflowStatus: string;
  attempts: number | null;
  lastHttpStatus: number | null;
  startedAt: string | null;
  closedAt: string | null;
  /** The console page of the delivery and its attempts. */
  consoleUrl: string;
  /** The delivery's attempt log in the API. */
  apiUrl: string;
}

/** One row of the log: an inbound event (null fields where the event has no inbound workflow, e.g. a Test). */
export interface EventRow {
  eventId: string;
  workflowId: string | null;
  runId: string | null;
  source: string | null;
  type: string | null;
  entity: string | null;
  warehouse: string | null;
  goodsOwner: number | null;
  status: string | null;
  workflowStatus: string | null;
  receivedAt: string | null;
  deliveries: EventDelivery[];
}

export interface EventPage {
  events: EventRow[];
  /** Pass back as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
}

/** One event in full: the notification as it came, its follow-up data, its outcome and every delivery. */
export interface EventDetail extends EventRow {
  reason: string | null;
  closedAt: string | null;
  notification: unknown;
  followUp: unknown;
  followUpUrl: string | null;
  followUpFetchedAt: string | null;
}

const INBOUND_PREFIX = 'inbound/';

/** The console's page of one delivery and its attempts. */
const deliveryConsolePath = (workflowId: string) => `/console/deliveries/${encodeURIComponent(workflowId)}`;

/** The API's attempt log of one delivery. */
const deliveryApiPath = (workflowId: string) => `/api/deliveries/${encodeURIComponent(workflowId)}/attempts`;

export const eventConsolePath = (workflowId: string) => `/console/events/${encodeURIComponent(workflowId)}`;

const toIso = (ts: Timestamp) =>
  ts?.seconds != null ? new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString() : null;

const STATUS_NAMES = temporal.api.enums.v1.WorkflowExecutionStatus;
/** `WORKFLOW_EXECUTION_STATUS_RUNNING` -> `RUNNING`, as the SDK's describe names it. */
const statusName = (status: number | null | undefined) =>
  (STATUS_NAMES[status ?? 0] ?? 'UNSPECIFIED').replace('WORKFLOW_EXECUTION_STATUS_', '');

/** A search attribute of a raw execution (search attributes are plain JSON payloads, never encrypted). */
function attribute<T>(info: RawExecution, name: string): T | null {
  const payload = info.searchAttributes?.indexedFields?.[name];
  if (!payload) return null;
  const value = defaultPayloadConverter.fromPayload<T | T[]>(payload as Payload);
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** Every page of one visibility query (the page's deliveries: a page of 1,000 holds them nearly always). */
async function listAll(client: Client, query: string): Promise<RawExecution[]> {
  const out: RawExecution[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize: 1000,
      nextPageToken,
    });
    out.push(...page.executions);
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return out;
}

/** One page of a visibility query; a token Temporal refuses is the caller's bad cursor. */
async function listPage(client: Client, query: string, search: EventSearch) {
  try {
    return await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize: search.pageSize,
      nextPageToken: search.cursor,
    });
  } catch (err) {
    // INVALID_ARGUMENT, or UNKNOWN for a token the server could not read.
    if (search.cursor && [2, 3].includes((err as { code?: number }).code ?? 0))
      throw new InvalidPayloadError('cursor: not a cursor of this list', [
        { path: 'cursor', message: 'not a cursor of this list' },
      ]);
    throw err;
  }
}

function deliveryOf(info: RawExecution): EventDelivery {
  const workflowId = info.execution?.workflowId ?? '';
  const subscriptionId = attribute<string>(info, SA.subscription.name);
  return {
    workflowId,
    runId: info.execution?.runId ?? '',
    subscriptionId,
    status: attribute<string>(info, SA.status.name),
    workflowStatus: statusName(info.status),
    attempts: attribute<number>(info, SA.attempts.name),
    lastHttpStatus: attribute<number>(info, SA.httpStatus.name),
    startedAt: toIso(info.startTime),
    closedAt: toIso(info.closeTime),
    consoleUrl: deliveryConsolePath(workflowId),
    apiUrl: deliveryApiPath(workflowId),
  };
}

/** A reset delivery is one workflow with several runs: the running one, else the latest to close. */
function currentRuns(deliveries: EventDelivery[]): EventDelivery[] {
  const rank = (d: EventDelivery) => (d.workflowStatus === 'RUNNING' ? '~' : (d.closedAt ?? ''));
  const current = new Map<string, EventDelivery>();
  for (const d of deliveries) {
    const seen = current.get(d.workflowId);
    if (!seen || rank(d) > rank(seen)) current.set(d.workflowId, d);
  }
  return [...current.values()].sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
}

/** The event id an inbound workflow id stands for (`inbound/<source>/<key>` -> `<source>/<key>`). */
export const eventIdOf = (workflowId: string) =>
  workflowId.startsWith(INBOUND_PREFIX) ? workflowId.slice(INBOUND_PREFIX.length) : workflowId;

/** The type as subscribers see it: `<source kind>.<type>` for sources, the published type as it is. */
const outboundType = (kind: string | null, type: string | null) =>
  type === null ? null : kind && kind !== 'api' ? `${kind}.${type}` : type;

function rowOf(info: RawExecution, deliveries: EventDelivery[]): EventRow {
  const workflowId = info.execution?.workflowId ?? '';
  return {
    eventId: eventIdOf(workflowId),
    workflowId,
    runId: info.execution?.runId ?? null,
    source: attribute<string>(info, SA.source.name),
    type: outboundType(attribute<string>(info, SA.sourceKind.name), attribute<string>(info, SA.eventType.name)),
    entity: attribute<string>(info, SA.entity.name),
    warehouse: attribute<string>(info, SA.warehouse.name),
    goodsOwner: attribute<number>(info, SA.goodsOwner.name),
    status: attribute<string>(info, SA.status.name),
    workflowStatus: statusName(info.status),
    receivedAt: toIso(info.startTime),
    deliveries,
  };
}

/** The deliveries of these events, grouped by event id: one visibility query. */
async function deliveriesByEvent(client: Client, eventIds: string[]): Promise<Map<string, EventDelivery[]>> {
  const byEvent = new Map<string, EventDelivery[]>();
  if (!eventIds.length) return byEvent;
  for (const info of await listAll(client, deliveriesOfEvents(eventIds))) {
    const eventId = attribute<string>(info, SA.eventId.name) ?? '';
    byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), deliveryOf(info)]);
  }
  for (const [eventId, list] of byEvent) byEvent.set(eventId, currentRuns(list));
  return byEvent;
}

/** One page of the log, newest first (visibility's order: running, then by close time). */
export async function listEvents(client: Client, search: EventSearch): Promise<EventPage> {
  if (contradicts(search)) return { events: [], nextCursor: null };
  if (onDeliverySide(search)) return listByDeliveries(client, search);
  const page = await listPage(client, inboundQuery(search), search);
  const deliveries = await deliveriesByEvent(
    client,
    page.executions.map((info) => eventIdOf(info.execution?.workflowId ?? '')),
  );
  return {
    events: page.executions.map((info) =>
      rowOf(info, deliveries.get(eventIdOf(info.execution?.workflowId ?? '')) ?? []),
    ),
    nextCursor: encodeCursor(page.nextPageToken),
  };
}

/**
 * The log searched by subscription or delivery status: a page of matching deliveries, shown as their
 * events (each with all its deliveries) in the order of the deliveries. A page of N deliveries may
 * hold fewer events, when several deliveries of one event match.
 */
async function listByDeliveries(client: Client, search: EventSearch): Promise<EventPage> {
  const page = await listPage(client, deliverySideQuery(search), search);
  const eventIds = [...new Set(page.executions.map((info) => attribute<string>(info, SA.eventId.name) ?? ''))].filter(
    Boolean,
  );
  const [inbound, deliveries] = await Promise.all([
    eventIds.length ? listAll(client, inboundWorkflows(eventIds.map((id) => `${INBOUND_PREFIX}${id}`))) : [],
    deliveriesByEvent(client, eventIds),
  ]);
  const inboundByEvent = new Map(inbound.map((info) => [eventIdOf(info.execution?.workflowId ?? ''), info]));
  const matched = new Map(page.executions.map((info) => [attribute<string>(info, SA.eventId.name) ?? '', info]));
  return {
    events: eventIds.map((eventId) => {
      const info = inboundByEvent.get(eventId);
      const all = deliveries.get(eventId) ?? [];
      if (info) return rowOf(info, all);
      // No inbound workflow (a Test, or an event whose inbound workflow is gone): what the delivery knows.
      const delivery = matched.get(eventId)!;
      return {
        eventId,
        workflowId: null,
        runId: null,
        source: null,
        type: attribute<string>(delivery, SA.eventType.name),
        entity: attribute<string>(delivery, SA.entity.name),
        warehouse: null,
        goodsOwner: null,
        status: null,
        workflowStatus: null,
        receivedAt: toIso(delivery.startTime),
        deliveries: all,
      };
    }),
    nextCursor: encodeCursor(page.nextPageToken),
  };
}

/** Decodes one payload with the client's codecs (decryption) and payload converter. */
async function decodePayload<T>(client: Client, payload: Payload | null | undefined): Promise<T | null> {
  if (!payload) return null;
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let payloads = [payload];
  for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return payloadConverter.fromPayload<T>(payloads[0]!);
}

/** A running delivery's live status and attempts (visibility may trail the workflow by a moment). */
async function refreshRunning(client: Client, d: EventDelivery): Promise<EventDelivery> {
  if (d.workflowStatus !== 'RUNNING') return d;
  const described = await client.workflow
    .getHandle(d.workflowId, d.runId)
    .describe()
    .catch(() => undefined);
  if (!described) return d;
  const pending = described.raw.pendingActivities?.[0];
  const made = pending?.attempt
    ? pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
      ? pending.attempt
      : pending.attempt - 1
    : 0;
  return {
    ...d,
    workflowStatus: described.status.name,
    status: described.typedSearchAttributes.get(SA.status) ?? d.status,
    lastHttpStatus: described.typedSearchAttributes.get(SA.httpStatus) ?? d.lastHttpStatus,
    attempts: Math.max(described.typedSearchAttributes.get(SA.attempts) ?? d.attempts ?? 0, made) || null,
  };
}

/** One inbound event in full, by its workflow id: describe, its history's first and last events, its deliveries. */
export async function eventDetail(client: Client, workflowId: string): Promise<EventDetail> {
  if (!workflowId.startsWith(INBOUND_PREFIX)) throw new NotFoundError(`"${workflowId}" is not an inbound event`);
  const handle = client.workflow.getHandle(workflowId);
  let described;
  try {
    described = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`event "${workflowId}" does not exist`);
    throw err;
  }
  const events = (await client.workflow.getHandle(workflowId, described.runId).fetchHistory()).events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  const last = events.at(-1);
  const input = (await decodePayload<InboundWorkflowInput>(client, started?.input?.payloads?.[0])) ?? undefined;
  const result =
    (await decodePayload<InboundWorkflowResult>(
      client,
      last?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0],
    )) ?? undefined;
  const failure = last?.workflowExecutionFailedEventAttributes?.failure;
  const eventId = input ? `${input.event.sourceId}/${input.event.eventKey}` : eventIdOf(workflowId);

  const found = (await deliveriesByEvent(client, [eventId])).get(eventId) ?? [];
  const deliveries = await Promise.all(found.map((d) => refreshRunning(client, d)));
  // Planned by the workflow but not (yet) in visibility: coalesced ones, or a list that trails the start.
  for (const planned of result?.deliveries ?? [])
    if (!deliveries.some((d) => d.workflowId === planned.workflowId))
      deliveries.push({
        workflowId: planned.workflowId,
        runId: '',
        subscriptionId: planned.subscriptionId,
        status: null,
        workflowStatus: 'NOT_LISTED',
        attempts: null,
        lastHttpStatus: null,
        startedAt: null,
        closedAt: null,
        consoleUrl: deliveryConsolePath(planned.workflowId),
        apiUrl: deliveryApiPath(planned.workflowId),
      });

  const sa = described.typedSearchAttributes;
  const followUp = result?.enriched?.followUp;
  return {
    eventId,
    workflowId,
    runId: described.runId,
    source: sa.get(SA.source) ?? input?.event.sourceId ?? null,
    type: outboundType(sa.get(SA.sourceKind) ?? null, sa.get(SA.eventType) ?? null),
    entity: sa.get(SA.entity) ?? null,
    warehouse: sa.get(SA.warehouse) ?? null,
    goodsOwner: sa.get(SA.goodsOwner) ?? null,
    status: sa.get(SA.status) ?? null,
    workflowStatus: described.status.name,
    receivedAt: input?.event.receivedAt ?? described.startTime.toISOString(),
    closedAt: described.closeTime?.toISOString() ?? null,
    reason: result?.reason ?? (failure ? await failureMessage(client, failure) : null),
    notification: input?.event.payload ?? null,
    followUp: followUp?.data ?? null,
    followUpUrl: followUp?.url ?? null,
    followUpFetchedAt: followUp?.fetchedAt ?? null,
    deliveries,
  };
}
