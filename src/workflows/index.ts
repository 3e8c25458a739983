import type { InboundWorkflow } from '../shared/inbound';
import type { DeliveryWorkflow } from '../shared/delivery';
import { deliveryWorkflow } from './delivery';
import { inboundWorkflow } from './inbound';

// Every workflow the worker runs; the worker bundles this file.
export { inboundWorkflow, deliveryWorkflow };
export { subscriptionWorkflow } from './subscription';
export { envelopeWorkflow } from './envelope';
export { laneWorkflow } from './lane';
export { replayWorkflow } from './replay';
export { coalesceWorkflow } from './coalesce';

// Activities start these by the signatures in their contract modules: the compiler checks they match.
const contracts: [InboundWorkflow, DeliveryWorkflow] = [inboundWorkflow, deliveryWorkflow];
void contracts;
