import type { Client } from '@temporalio/client';
import type { HookflowConfig } from '../config/schema';
import { inboundWorkflowId, type InboundWorkflow, type InboundWorkflowInput } from '../shared/inbound';
import { keywordValue } from '../shared/bounded';
import { SA } from '../shared/search-attributes';
import { startDurably } from './start-durably';

/**
 * Starts the inbound workflow of one event (from a source's webhook or published through the API),
 * keyed by the event, with the search attributes users find it by. Resolves once Temporal has it.
 */
export function startInbound(client: Client, config: HookflowConfig, input: InboundWorkflowInput) {
  const { event } = input;
  return startDurably<InboundWorkflow>(
    client,
    'inboundWorkflow',
    {
      taskQueue: config.temporal.taskQueue,
      workflowId: inboundWorkflowId(event.sourceId, event.eventKey),
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: SA.source, value: event.sourceId },
        { key: SA.sourceKind, value: event.sourceKind },
        { key: SA.eventType, value: keywordValue(event.eventType) },
        { key: SA.status, value: 'received' },
        ...(event.entity !== undefined ? [{ key: SA.entity, value: keywordValue(event.entity) }] : []),
        ...(event.warehouse !== undefined ? [{ key: SA.warehouse, value: keywordValue(event.warehouse) }] : []),
        ...(event.goodsOwnerId !== undefined ? [{ key: SA.goodsOwner, value: event.goodsOwnerId }] : []),
      ],
    },
    config.server.ackTimeout,
  );
}
