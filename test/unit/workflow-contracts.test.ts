import type { SubscriptionWorkflow } from '../../src/shared/subscription';
import { subscriptionWorkflow } from '../../src/workflows/subscription';

// Clients start the subscription workflow by its signature in src/shared/subscription.ts, without
// importing workflow code: the type check of this file is what keeps the two in step.
test('the subscription workflow has the signature its clients start it by', () => {
  const contract: SubscriptionWorkflow = subscriptionWorkflow;
  expect(contract).toBe(subscriptionWorkflow);
});
