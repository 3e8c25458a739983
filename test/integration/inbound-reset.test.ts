import { randomUUID } from 'node:crypto';
import { resetFailedRun } from '../../src/temporal/deliveries';
import { deliveryWorkflowId } from '../../src/shared/delivery';
import type { InboundWorkflowResult } from '../../src/shared/inbound';
import { FakeHttpPeer } from '../support/fake-http';
import { createSubscription, publish } from '../support/outbound';
import { startHarness, testConfig, type Harness } from '../support/harness';

// The planning activity starts an event's direct deliveries with the client. An inbound workflow that
// runs again (an operator's reset to its first workflow task; a task retried after a worker died) plans
// again and finds each delivery started already: the receiver gets the event once.
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(testConfig(''));
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

test('an inbound workflow reset to its first workflow task starts no delivery twice', async () => {
  const path = `/inbound-reset/${randomUUID()}`;
  let calls = 0;
  receiver.on(path, () => (++calls, { status: 200 }));
  const sub = await createSubscription(h, { url: `${receiver.url}${path}`, triggers: ['ir.*'] });
  const { eventId, workflowId } = await publish(h, { type: 'ir.Changed', data: { n: 1 } });
  const handle = h.client.workflow.getHandle(workflowId);
  const first = (await handle.result()) as InboundWorkflowResult;
  const delivery = h.client.workflow.getHandle(deliveryWorkflowId(eventId, sub));
  expect(await delivery.result()).toMatchObject({ status: 'delivered' });
  expect(first.deliveries).toEqual([{ subscriptionId: sub, workflowId: deliveryWorkflowId(eventId, sub) }]);

  // Reset to the first workflow task (the Web UI's "Reset", type "First Workflow Task").
  const resetRunId = await resetFailedRun(
    h.client,
    h.config.temporal.namespace,
    workflowId,
    (await handle.describe()).runId,
    'test: run the inbound workflow again',
  );
  const again = (await h.client.workflow.getHandle(workflowId, resetRunId).result()) as InboundWorkflowResult;
  expect(again).toMatchObject({ status: 'handed-off', deliveries: first.deliveries });

  const runs: string[] = [];
  for await (const w of h.client.workflow.list({ query: `WorkflowId = '${deliveryWorkflowId(eventId, sub)}'` }))
    runs.push(w.runId);
  expect(runs).toHaveLength(1);
  expect(calls).toBe(1);
});
