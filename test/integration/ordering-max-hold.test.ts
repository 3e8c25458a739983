import { randomUUID } from 'node:crypto';
import { FakeHttpPeer } from '../support/fake-http';
import { createSubscription, json } from '../support/outbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { extendBody, post, sign } from '../support/webhooks';

// docs/beyond-delivery.md "Ordered delivery per entity": a lane's look back holds an event while an earlier inbound
// workflow of its entity still runs, at most `delivery.ordering.maxHold`; after that the event is sent
// and the late one follows. maxHold is 5 s here; the earlier event's follow-up fails until the test says.
let receiver: FakeHttpPeer;
let sourceApi: FakeHttpPeer;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  sourceApi = await new FakeHttpPeer().start();
  h = await startHarness(
    testConfig(`
delivery:
  oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT2M }
  ordering: { settle: PT1S, idle: PT2S, maxHold: PT5S }
sources:
  - id: erp
    kind: extend-commerce
    secret: extend-secret
    followUp: { urls: { OrderCreated: "${sourceApi.url}/orders/{OrderNumber}" } }
`),
  );
});

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await sourceApi?.stop();
});

test('maxHold over: the later event is sent while the earlier is still being enriched, and the earlier follows', async () => {
  const run = randomUUID().slice(0, 8);
  const order = `SO-${run}`;
  let sourceUp = false;
  sourceApi.on(`/orders/${order}`, () => (sourceUp ? { status: 200, body: { order } } : { status: 503 }));
  const path = `/ordered-hold/${run}`;
  const got: string[] = [];
  receiver.on(path, (request) => {
    got.push((json(request) as { type: string }).type);
    return { status: 200 };
  });
  await createSubscription(h, {
    url: `${receiver.url}${path}`,
    triggers: ['extend-commerce.OrderCreated', 'extend-commerce.OrderPicked'],
    signature: 'x-signature',
    ordering: 'entity',
  });
  const inbound: string[] = [];
  for (const action of ['OrderCreated', 'OrderPicked']) {
    const body = JSON.stringify(extendBody([{ Action: action, Details: { OrderNumber: order } }]));
    const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms('extend-secret', body) });
    expect(res.statusCode).toBe(202);
    inbound.push(res.json().events[0].workflowId);
  }
  expect(inbound[0]).toMatch(/^inbound\/erp\//);

  // The source stays down: OrderCreated's inbound workflow keeps retrying its fetch, OrderPicked waits for
  // it in its lane until maxHold is over, and is then sent on its own.
  await eventually(async () => got.length >= 1, 'the held event to be sent after maxHold', 60_000);
  expect(got).toEqual(['extend-commerce.OrderPicked']);
  const earlier = await h.client.workflow.getHandle(inbound[0]!).describe();
  expect(earlier.status.name).toBe('RUNNING'); // still being enriched: sent because maxHold was over

  // The source recovers: the late OrderCreated follows.
  sourceUp = true;
  await eventually(async () => got.length >= 2, 'the late event', 90_000);
  expect(got).toEqual(['extend-commerce.OrderPicked', 'extend-commerce.OrderCreated']);
}, 150_000);
