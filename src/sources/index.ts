import { z } from 'zod';
import { automationApi } from './automation-api';
import { extendCommerce } from './extend-commerce';
import { ongoingWms } from './ongoing-wms';
import type { SourceKindName } from '../shared/source-kind-name';
import type { SourceKind } from './source-kind';

/**
 * Every source kind hookflow accepts webhooks from. Adding one: a module beside this file implementing
 * SourceKind, one line here and its name in ../shared/source-kind-name.ts (the compiler checks the two
 * agree). The config union, the source-kind list and the log redaction list follow.
 */
export const SOURCES = [extendCommerce, ongoingWms, automationApi] as const;

type ModuleKind = (typeof SOURCES)[number]['kind'];
/** Never unless the modules here and the names in shared/source-kind-name.ts are the same set. */
type SameKinds = [ModuleKind] extends [SourceKindName]
  ? [SourceKindName] extends [ModuleKind]
    ? ModuleKind
    : never
  : never;
export const SOURCE_KINDS: readonly SameKinds[] = SOURCES.map((source) => source.kind);

type ConfigSchema = (typeof SOURCES)[number]['configSchema'];

/** One `sources[]` entry of the config file, discriminated by `kind`. */
export const sourceConfigSchema = z.discriminatedUnion(
  'kind',
  SOURCES.map((source) => source.configSchema) as [ConfigSchema, ...ConfigSchema[]],
);
export type SourceConfig = z.output<typeof sourceConfigSchema>;
export type SourceOf<K extends SourceKindName> = Extract<SourceConfig, { kind: K }>;

/** Request headers that carry some source's credentials (the logger redacts them). */
export const SOURCE_SECRET_HEADERS: readonly string[] = [...new Set(SOURCES.flatMap((source) => source.secretHeaders))];

const BY_KIND = new Map<string, SourceKind>(SOURCES.map((source) => [source.kind, source as unknown as SourceKind]));

export function sourceKindOf(config: SourceConfig): SourceKind {
  return BY_KIND.get(config.kind)!;
}

/** The known event types of one source kind, as outbound types and triggers name them. */
export interface KnownEventTypes {
  kind: SourceKindName;
  /** "Extend Commerce" */
  title: string;
  /** `<kind>.<type>`, e.g. `extend-commerce.OrderCreated` (see toOutboundEvent in src/workflows/handoff.ts). */
  types: readonly string[];
  /** The source names further types itself (Ongoing's `webhookTemplate`): any `<kind>.<name>` may match. */
  open: boolean;
}

const KNOWN_EVENT_TYPES: readonly KnownEventTypes[] = SOURCES.map((source) => ({
  kind: source.kind,
  title: source.title,
  types: source.eventTypes.map((type) => `${source.kind}.${type}`),
  open: source.namesMoreEventTypes === true,
}));

/** Every source kind's known event types: what triggers are checked against and the console offers. */
export function knownEventTypes(): readonly KnownEventTypes[] {
  return KNOWN_EVENT_TYPES;
}

export type { SourceKind, WebhookRequest, ParsedNotification } from './source-kind';
