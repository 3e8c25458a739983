import { eventUuid } from './event-uuid';
import type { InboundWorkflowInput } from '../shared/inbound';
import { planFollowUp } from './follow-up-url';
import type { SourceConfig } from './index';
import type { ParsedNotification } from './source-kind';

/**
 * The inbound workflow input of one parsed notification. The front door (small requests) and the
 * envelope activity (large ones) both build it here, so both start the same workflow for a notification.
 */
export function inboundInput(
  source: SourceConfig,
  { templateVars, ...notification }: ParsedNotification,
  receivedAt: Date,
  position?: number,
): InboundWorkflowInput {
  return {
    event: {
      ...notification,
      uuid: eventUuid(`${source.id}/${notification.eventKey}`),
      sourceId: source.id,
      sourceKind: source.kind,
      receivedAt: receivedAt.toISOString(),
      ...(position !== undefined ? { position } : {}),
    },
    filter: source.filter,
    followUp: planFollowUp(source, notification.eventType, templateVars),
  };
}
