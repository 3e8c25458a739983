import { randomUUID } from 'node:crypto';
import type { CoalesceResult } from '../../src/shared/coalesce';
import type { DeliveryResult } from '../../src/shared/delivery';
import { inboundWorkflowId, type InboundWorkflowInput, type InboundWorkflowResult } from '../../src/shared/inbound';
import { FakeHttpPeer } from '../support/fake-http';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription, json } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

// docs/beyond-delivery.md, Coalescing: a notification older than one a coalescer run delivered is dropped
// by that run (superseded, test/timeskipping/coalesce-late.test.ts); "once that run has closed, such a
// late one starts a new batch and is delivered". The late one is an inbound workflow accepted a minute
// before the delivered one (started here directly, as a retried or backlogged one would run late).
let receiver: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(testConfig(`sources:\n  - { id: erp, kind: extend-commerce, secret: extend-secret }`));
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

test('late: once the run has closed, an older notification starts a new batch and is delivered', async () => {
  const path = `/late/${randomUUID()}`;
  receiver.on(path, () => ({ status: 200 }));
  const sub = await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['extend-commerce.AvailableBalanceChanged'],
    signature: 'x-signature',
    coalesce: { window: 'PT1S', key: ['ProductNumber'], types: ['AvailableBalanceChanged'] },
  });
  const product = `P-${randomUUID().slice(0, 8)}`;

  // The newer notification, through the front door: its coalescer run delivers it and closes.
  const body = JSON.stringify(
    extendBody([
      { Action: 'AvailableBalanceChanged', Details: { ProductNumber: product, Warehouse: 'YX', AvailableBalance: 5 } },
    ]),
  );
  const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms('extend-secret', body) });
  expect(res.statusCode).toBe(202);
  const newer = (await h.client.workflow.getHandle(res.json().events[0].workflowId).result()) as InboundWorkflowResult;
  const coalescerId = newer.deliveries!.find((d) => d.subscriptionId === sub)!.workflowId;
  const first = h.client.workflow.getHandle(coalescerId);
  expect((await first.result()) as CoalesceResult).toEqual({ deliveries: 1, superseded: 0 });
  const firstRunId = (await first.describe()).runId;

  // The older one (accepted a minute earlier) reaches the key after that run closed.
  const eventKey = `late-${randomUUID()}`;
  const input: InboundWorkflowInput = {
    event: {
      sourceId: 'erp',
      sourceKind: 'extend-commerce',
      eventKey,
      uuid: randomUUID(),
      eventType: 'AvailableBalanceChanged',
      recognised: true,
      entity: product,
      warehouse: 'YX',
      receivedAt: new Date(Date.now() - 60_000).toISOString(),
      position: 0,
      payload: {
        Action: 'AvailableBalanceChanged',
        Details: { ProductNumber: product, Warehouse: 'YX', AvailableBalance: 1 },
      },
    },
    filter: {},
    followUp: { kind: 'none' },
  };
  const late = (await h.client.workflow.execute('inboundWorkflow', {
    taskQueue: h.config.temporal.taskQueue,
    workflowId: inboundWorkflowId('erp', eventKey),
    args: [input],
  })) as InboundWorkflowResult;
  expect(late.deliveries).toContainEqual({ subscriptionId: sub, workflowId: coalescerId });

  // A new run, a new batch of one, delivered.
  const second = h.client.workflow.getHandle(coalescerId);
  expect((await second.result()) as CoalesceResult).toEqual({ deliveries: 1, superseded: 0 });
  expect((await second.describe()).runId).not.toBe(firstRunId);
  const delivery = (await h.client.workflow.getHandle(`delivery/erp/${eventKey}/${sub}`).result()) as DeliveryResult;
  expect(delivery.status).toBe('delivered');
  const values = receiver.requestsTo(path).map((r) => json(r).data.Details.AvailableBalance);
  expect(values).toEqual([5, 1]);
});
