import type { IncomingHttpHeaders } from 'node:http';
import type { SourceConfig } from '../config/schema';
import type { InboundEvent, SourceKindName } from '../shared/inbound';

/** What a source module sees of one webhook request. */
export interface WebhookRequest {
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  receivedAt: Date;
}

/** One notification out of a request, before the front door adds source id and time. */
export type ParsedNotification = Omit<InboundEvent, 'sourceId' | 'sourceKind' | 'receivedAt' | 'uuid'> & {
  /** Values a follow-up URL template may use, e.g. `{OrderNumber}` or `{+path}`. */
  templateVars: Record<string, string>;
};

/**
 * Everything that differs between source systems. Adding a source system is adding one module that
 * implements this and listing it in ./index.ts.
 */
export interface SourceKind<C extends SourceConfig = SourceConfig> {
  readonly kind: SourceKindName;
  /** Checks credentials over the exact raw body; returns the reason for refusal, or undefined if valid. */
  verify(request: WebhookRequest, config: C): string | undefined;
  /** Parses the JSON body into notifications (with dedup key and filter fields); throws InvalidPayloadError. */
  parse(body: unknown, request: WebhookRequest, config: C): ParsedNotification[];
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Collects the scalar fields of an object as template variables. */
export function scalarFields(object: Record<string, unknown> | undefined, into: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(object ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') into[key] = String(value);
  }
  return into;
}
