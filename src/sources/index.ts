import type { SourceConfig } from '../config/schema';
import type { SourceKindName } from '../shared/inbound';
import { automationApi } from './automation-api';
import { extendCommerce } from './extend-commerce';
import { ongoingWms } from './ongoing-wms';
import type { SourceKind } from './source-kind';

const KINDS: { [K in SourceKindName]: SourceKind<Extract<SourceConfig, { kind: K }>> } = {
  'extend-commerce': extendCommerce,
  'ongoing-wms': ongoingWms,
  'automation-api': automationApi,
};

export function sourceKindOf(config: SourceConfig): SourceKind {
  return KINDS[config.kind] as SourceKind;
}

export type { SourceKind, WebhookRequest, ParsedNotification } from './source-kind';
