import type { CoalesceWorkflow } from '../shared/coalesce';
import type { DeliveryWorkflow } from '../shared/delivery';
import type { InboundWorkflow } from '../shared/inbound';
import type { LaneWorkflow } from '../shared/lane';
import { coalesceWorkflow } from './coalesce';
import { deliveryWorkflow } from './delivery';
import { inboundWorkflow } from './inbound';
import { laneWorkflow } from './lane';

// Every workflow the worker runs; the worker bundles this file.
export { inboundWorkflow, deliveryWorkflow, laneWorkflow, coalesceWorkflow };
export { subscriptionWorkflow } from './subscription';
export { envelopeWorkflow } from './envelope';
export { replayWorkflow } from './replay';
export { healthWorkflow } from './health';
export { gateWorkflow } from './gate';

// Activities and the hand-off (src/workflows/handoff.ts) start these by name with the signatures in their
// contract modules: the compiler checks they match.
const contracts: [InboundWorkflow, DeliveryWorkflow, LaneWorkflow, CoalesceWorkflow] = [
  inboundWorkflow,
  deliveryWorkflow,
  laneWorkflow,
  coalesceWorkflow,
];
void contracts;
