import { InvalidPayloadError } from '../errors';
import { MAX_STORED_CHARS } from '../shared/bounded';
import { SA } from '../shared/search-attributes';
import { SOURCE_KINDS } from '../sources';

/**
 * The event log's search, turned into Temporal visibility queries. Every value a user typed is checked
 * and quoted here, so no input can change the shape of a query: quotes, backslashes and control
 * characters are refused (Temporal's query parser does not round-trip them the same on SQLite and
 * PostgreSQL visibility), and everything else is a single-quoted literal.
 */

/** Statuses of the inbound workflow (HookflowStatus on `inboundWorkflow`). */
export const INBOUND_STATUSES = [
  'received',
  'filtered',
  'fetching',
  'enriched',
  'follow-up-not-found',
  'follow-up-failed',
  'handed-off',
] as const;
/** Statuses of a delivery (HookflowStatus on `deliveryWorkflow`): a filter on the delivery side. */
export const DELIVERY_STATUSES = ['delivering', 'delivered', 'failed', 'skipped', 'filtered-error'] as const;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** A search as validated: every field optional; `cursor` is Temporal's page token. */
export interface EventSearch {
  entity?: string;
  source?: string;
  type?: string;
  status?: string;
  subscription?: string;
  from?: Date;
  to?: Date;
  pageSize: number;
  cursor?: Uint8Array;
}

/** The fields as they arrive (query string, form): strings, or absent. */
export type RawEventSearch = Partial<Record<keyof EventSearch, unknown>>;

const fail = (field: string, message: string): never => {
  throw new InvalidPayloadError(`${field}: ${message}`, [{ path: field, message }]);
};

/** A search value: trimmed, at most 255 characters, none of ' " \ or a control character. */
function text(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return fail(field, 'must be text');
  const trimmed = value.trim();
  if (!trimmed) return undefined;
  if (trimmed.length > MAX_STORED_CHARS) return fail(field, `at most ${MAX_STORED_CHARS} characters`);
  if (/['"\\\u0000-\u001f\u007f]/.test(trimmed))
    return fail(field, 'cannot contain quotes, backslashes or control characters');
  return trimmed;
}

/** A time: ISO-8601; without a zone (a date, or an HTML datetime-local value) it is UTC. */
function time(field: string, value: unknown): Date | undefined {
  const t = text(field, value);
  if (t === undefined) return undefined;
  const zoneless = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/.test(t);
  const ms = Date.parse(zoneless ? `${t}Z` : t);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(t)) return fail(field, 'must be a date-time (ISO-8601)');
  return new Date(ms);
}

function pageSize(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_PAGE_SIZE;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) return fail('pageSize', `must be 1 to ${MAX_PAGE_SIZE}`);
  return n;
}

/**
 * The cursor is Temporal's next-page token, base64url. A token the server cannot read is answered
 * "something went wrong, please retry" (UNKNOWN, which the client retries for seconds), so one is checked
 * here first: a JSON object, and where it has SQL visibility's position (close time, start time, run
 * id), a readable one.
 */
function cursor(value: unknown): Uint8Array | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const bad = () => fail('cursor', 'not a cursor of this list');
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,8192}$/.test(value)) return bad();
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) return bad();
  let token: unknown;
  try {
    token = JSON.parse(bytes.toString('utf8'));
  } catch {
    return bad();
  }
  if (typeof token !== 'object' || token === null || Array.isArray(token)) return bad();
  const { CloseTime, StartTime, RunID } = token as Record<string, unknown>;
  const isTime = (t: unknown) => typeof t === 'string' && !Number.isNaN(Date.parse(t));
  if (
    (CloseTime !== undefined || StartTime !== undefined || RunID !== undefined) &&
    !(isTime(CloseTime) && isTime(StartTime) && typeof RunID === 'string')
  )
    return bad();
  return bytes;
}

export const encodeCursor = (token: Uint8Array | null | undefined) =>
  token && token.length ? Buffer.from(token).toString('base64url') : null;

/** Checks a search; InvalidPayloadError naming the field otherwise. */
export function parseEventSearch(raw: RawEventSearch): EventSearch {
  const type = text('type', raw.type);
  if (type !== undefined && !/^[^*]+\*?$|^\*$/.test(type)) fail('type', 'a type, or a prefix ending in * (shop.*)');
  const status = text('status', raw.status);
  if (status !== undefined && ![...INBOUND_STATUSES, ...DELIVERY_STATUSES].includes(status as never))
    fail('status', `one of ${[...INBOUND_STATUSES, ...DELIVERY_STATUSES].join(', ')}`);
  const search: EventSearch = {
    entity: text('entity', raw.entity),
    source: text('source', raw.source),
    type: type === '*' ? undefined : type,
    status,
    subscription: text('subscription', raw.subscription),
    from: time('from', raw.from),
    to: time('to', raw.to),
    pageSize: pageSize(raw.pageSize),
    cursor: cursor(raw.cursor),
  };
  if (search.from && search.to && search.from >= search.to) fail('to', 'must be after from');
  return search;
}

/** A single-quoted literal. Values of users are checked by parseEventSearch; ids from Temporal double their quotes. */
export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

const eq = (name: string, value: string) => `${name} = ${literal(value)}`;
const startsWith = (name: string, value: string) => `${name} STARTS_WITH ${literal(value)}`;
const anyOf = (clauses: string[]) => (clauses.length === 1 ? clauses[0]! : `(${clauses.join(' OR ')})`);

/** `extend-commerce.OrderCreated` -> the source kind and the type as the inbound workflow records it. */
function splitType(type: string): { kind?: string; name: string } {
  const dot = type.indexOf('.');
  const kind = dot > 0 ? type.slice(0, dot) : '';
  return (SOURCE_KINDS as readonly string[]).includes(kind) ? { kind, name: type.slice(dot + 1) } : { name: type };
}

/**
 * The type on an inbound workflow: sources record the source's own name (`OrderCreated`) beside the
 * source kind, published events their whole type (`shop.OrderPaid`). A trailing `*` is a prefix.
 */
function inboundType(type: string): string[] {
  const prefix = type.endsWith('*');
  const { kind, name } = splitType(prefix ? type.slice(0, -1) : type);
  const clauses = kind ? [eq(SA.sourceKind.name, kind)] : [];
  if (prefix) {
    if (name) clauses.push(startsWith(SA.eventType.name, name));
  } else clauses.push(eq(SA.eventType.name, name));
  return clauses;
}

/** The type on a delivery is the namespaced one; a bare name matches it under every source kind. */
function deliveryType(type: string): string {
  const prefix = type.endsWith('*');
  const stem = prefix ? type.slice(0, -1) : type;
  const candidates =
    splitType(stem).kind || stem.includes('.') ? [stem] : [stem, ...SOURCE_KINDS.map((k) => `${k}.${stem}`)];
  return anyOf(candidates.map((c) => (prefix ? startsWith(SA.eventType.name, c) : eq(SA.eventType.name, c))));
}

const timeRange = ({ from, to }: EventSearch) => [
  ...(from ? [`StartTime >= '${from.toISOString()}'`] : []),
  ...(to ? [`StartTime < '${to.toISOString()}'`] : []),
];

/** Whether the search is answered by listing deliveries (a subscription or a delivery status is asked for). */
export const onDeliverySide = (s: EventSearch) =>
  s.subscription !== undefined || (DELIVERY_STATUSES as readonly string[]).includes(s.status ?? '');

/** Inbound workflows matching the search (the list without delivery-side filters). */
export function inboundQuery(s: EventSearch): string {
  return [
    `WorkflowType = 'inboundWorkflow'`,
    ...(s.entity !== undefined ? [eq(SA.entity.name, s.entity)] : []),
    ...(s.source !== undefined ? [eq(SA.source.name, s.source)] : []),
    ...(s.type !== undefined ? inboundType(s.type) : []),
    ...(s.status !== undefined ? [eq(SA.status.name, s.status)] : []),
    ...timeRange(s),
  ].join(' AND ');
}

/**
 * Delivery workflows matching the search (a subscription or a delivery status asked for). The source
 * is the first part of the event id (`<source>/<key>`); an inbound status other than handed-off
 * matches no delivery (the caller answers an empty page).
 */
export function deliverySideQuery(s: EventSearch): string {
  const deliveryStatus = (DELIVERY_STATUSES as readonly string[]).includes(s.status ?? '') ? s.status : undefined;
  return [
    `WorkflowType = 'deliveryWorkflow'`,
    ...(s.subscription !== undefined ? [eq(SA.subscription.name, s.subscription)] : []),
    ...(deliveryStatus !== undefined ? [eq(SA.status.name, deliveryStatus)] : []),
    ...(s.entity !== undefined ? [eq(SA.entity.name, s.entity)] : []),
    ...(s.source !== undefined ? [startsWith(SA.eventId.name, `${s.source}/`)] : []),
    ...(s.type !== undefined ? [deliveryType(s.type)] : []),
    ...timeRange(s),
  ].join(' AND ');
}

/** An inbound status that no event with deliveries has: the delivery-side answer is empty. */
export const contradicts = (s: EventSearch) =>
  onDeliverySide(s) && s.status !== undefined && (INBOUND_STATUSES as readonly string[]).includes(s.status)
    ? s.status !== 'handed-off'
    : false;

/** All deliveries of these events, in one query. */
export const deliveriesOfEvents = (eventIds: string[]) =>
  `WorkflowType = 'deliveryWorkflow' AND ${SA.eventId.name} IN (${eventIds.map(literal).join(', ')})`;

/** These inbound workflows, in one query. */
export const inboundWorkflows = (workflowIds: string[]) =>
  `WorkflowType = 'inboundWorkflow' AND WorkflowId IN (${workflowIds.map(literal).join(', ')})`;
