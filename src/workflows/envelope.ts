import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EnvelopeInput, EnvelopeResult } from '../shared/envelope';
import { SA } from '../shared/search-attributes';

// One activity does the starting (bounded batches, heartbeat = progress), so the history stays a few
// events whatever the number of notifications. Retried until Temporal takes every start.
const { splitEnvelope } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** A large request: start every notification's inbound workflow (docs/sources.md, "Large envelopes"). */
export async function envelopeWorkflow(input: EnvelopeInput, body: Uint8Array): Promise<EnvelopeResult> {
  const result = await splitEnvelope(input, body);
  upsertSearchAttributes([{ key: SA.status, value: 'split' }]);
  return result;
}
