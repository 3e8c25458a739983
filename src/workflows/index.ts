// Every workflow the worker runs; the worker bundles this file.
export { inboundWorkflow } from './inbound';
export { deliveryWorkflow } from './delivery';
export { subscriptionWorkflow } from './subscription';
export { envelopeWorkflow } from './envelope';
export { coalesceWorkflow } from './coalesce';
