import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { InboundEvent } from '../shared/inbound';

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

/** A verified request names the credential that matched (`current`, `previous`, `none`, ...), never its value. */
export type Verification = { secret: string } | { refused: string };

/** The schema of a source's `sources[]` entry (built with `sourceConfig` in ./source-config.ts). */
export type SourceConfigSchema = z.ZodType<{ kind: string; id: string }>;

/**
 * Everything that differs between source systems. Adding a source system is adding one module that
 * implements this and listing it in ./index.ts: the config union, the source-kind list and the log
 * redaction list are derived from that list.
 */
export interface SourceKind<S extends SourceConfigSchema = SourceConfigSchema, C extends z.output<S> = z.output<S>> {
  readonly kind: C['kind'];
  /** The source system in words, for messages: "Extend Commerce". */
  readonly title: string;
  /**
   * The event types it sends (the `eventType` of its notifications; outbound they are `<kind>.<type>`):
   * what a subscription's triggers of this kind are checked against, and what the console offers.
   */
  readonly eventTypes: readonly string[];
  /** True when the source names further types itself, so that a trigger for any other name is accepted too. */
  readonly namesMoreEventTypes?: boolean;
  /** Its entry in `sources[]` of the config file. */
  readonly configSchema: S;
  /** Request headers (lower case) that carry the source's credentials: redacted from every log line. */
  readonly secretHeaders: readonly string[];
  /**
   * Checks credentials over the exact raw body, against each configured credential valid at
   * `request.receivedAt`: which one matched (its label), or the reason for refusal.
   */
  verify(request: WebhookRequest, config: C): Verification;
  /** Parses the JSON body into notifications (with dedup key and filter fields); throws InvalidPayloadError. */
  parse(body: unknown, request: WebhookRequest, config: C): ParsedNotification[];
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Collects the scalar fields of an object as template variables. */
export function scalarFields(
  object: Record<string, unknown> | undefined,
  into: Record<string, string> = {},
): Record<string, string> {
  for (const [key, value] of Object.entries(object ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') into[key] = String(value);
  }
  return into;
}
