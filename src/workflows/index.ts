import type { CoalesceWorkflow } from '../shared/coalesce';
import type { DeliveryWorkflow } from '../shared/delivery';
import type { GateWorkflow } from '../shared/gate';
import type { InboundWorkflow } from '../shared/inbound';
import type { LaneWorkflow } from '../shared/lane';
import { coalesceWorkflow } from './coalesce';
import { deliveryWorkflow } from './delivery';
import { gateWorkflow } from './gate';
import { inboundWorkflow } from './inbound';
import { laneWorkflow } from './lane';

// Every workflow the worker runs; the worker bundles this file.
export { inboundWorkflow, deliveryWorkflow, laneWorkflow, coalesceWorkflow, gateWorkflow };
export { subscriptionWorkflow } from './subscription';
export { envelopeWorkflow } from './envelope';
export { replayWorkflow } from './replay';
export { bulkRetryWorkflow } from './bulk-retry';
export { healthWorkflow } from './health';

// Activities and the hand-off (src/workflows/handoff.ts) start these by name with the signatures in their
// contract modules: the compiler checks they match.
const contracts: [InboundWorkflow, DeliveryWorkflow, LaneWorkflow, CoalesceWorkflow, GateWorkflow] = [
  inboundWorkflow,
  deliveryWorkflow,
  laneWorkflow,
  coalesceWorkflow,
  gateWorkflow,
];
void contracts;
