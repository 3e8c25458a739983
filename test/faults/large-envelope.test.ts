import { randomUUID } from 'node:crypto';
import { envelopeWorkflowId, type EnvelopeResult } from '../../src/shared/envelope';
import { inboundWorkflowId } from '../../src/shared/inbound';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { sign } from '../support/webhooks';

/**
 * Large envelopes: a signed Extend envelope of 10,000 notifications (about 880 KB, under the 1 MiB body
 * limit) used to be answered 503 on every retry while thousands of starts piled up. Now it is
 * acknowledged after one durable start (the envelope workflow), every notification's inbound workflow
 * then exists, the source's retry is a duplicate, and another source is served meanwhile.
 * The events are filtered (a warehouse outside the source's filter) so the 10,000 workflows end at once.
 */

const SECRET = 'large-envelope-secret';
const COUNT = 10_000;
let h: Harness;

beforeAll(async () => {
  h = await startHarness(
    testConfig(`
sources:
  # The rate limit counts notifications (10,000 here): room for the retry within the same minute.
  - { id: erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [ADR-1] }, rateLimit: { max: 100000, window: PT1M } }
  - { id: other, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [ADR-1] } }
`),
  );
});
afterAll(() => h?.stop());

function envelope(count: number, notificationId = randomUUID(), attempt = 1) {
  const notifications = Array.from({ length: count }, (_, i) => ({
    Action: 'OrderCreated',
    Details: { OrderNumber: `RP-${String(i).padStart(5, '0')}`, Warehouse: 'GreenWarehouse' },
  }));
  return JSON.stringify({
    Id: notificationId.replace(/-/g, ''),
    Attempt: attempt,
    Properties: { NotificationId: notificationId },
    Notifications: notifications,
  });
}
const post = (source: string, text: string) =>
  h.app.inject({
    method: 'POST',
    url: `/webhooks/${source}`,
    payload: text,
    headers: { 'content-type': 'application/json; charset=utf-8', 'ms-signature': sign.ms(SECRET, text) },
  });

test(`${COUNT.toLocaleString('en')} notifications in one signed envelope: acknowledged, all started, a retry is a duplicate, other senders served`, async () => {
  const notificationId = randomUUID();
  const text = envelope(COUNT, notificationId);
  const rssBefore = process.memoryUsage().rss;
  const t0 = Date.now();
  const res = await post('erp', text);
  const ackMs = Date.now() - t0;
  expect(res.statusCode).toBe(202);
  const workflowId = envelopeWorkflowId('erp', `${notificationId}-0`, COUNT);
  expect(res.json()).toEqual({ accepted: COUNT, events: [], envelope: { workflowId, duplicate: false } });

  // While the envelope is being split, another source's webhooks are acknowledged as usual.
  const others: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = Date.now();
    const other = await post('other', envelope(1));
    expect(other.statusCode).toBe(202);
    others.push(Date.now() - started);
  }

  const result = (await h.client.workflow.getHandle(workflowId).result()) as EnvelopeResult;
  expect(result).toEqual({ notifications: COUNT, started: COUNT, duplicates: 0, refused: [] });
  const splitMs = Date.now() - t0;
  // Only this envelope's workflows have source erp (any visibility store can count by a search attribute).
  const query = `TaskQueue = '${h.config.temporal.taskQueue}' AND WorkflowType = 'inboundWorkflow' AND HookflowSource = 'erp'`;
  await eventually(
    async () => (await h.client.workflow.count(query)).count === COUNT,
    `${COUNT} inbound workflows listed`,
    5 * 60_000,
  );
  for (const i of [0, 4999, COUNT - 1])
    await h.client.workflow.getHandle(inboundWorkflowId('erp', `${notificationId}-${i}`)).describe();

  // The source retries (as Extend does, Attempt 2): the same envelope, nothing new started.
  const retry = await post('erp', envelope(COUNT, notificationId, 2));
  expect(retry.statusCode).toBe(202);
  expect(retry.json().envelope).toEqual({ workflowId, duplicate: true });
  expect((await h.client.workflow.count(query)).count).toBe(COUNT);

  const sorted = [...others].sort((a, b) => a - b);
  console.log(
    `[faults] large envelope: ${COUNT} notifications, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB; 202 after ${ackMs} ms; ` +
      `all started after ${(splitMs / 1000).toFixed(1)} s; other source meanwhile p50 ${sorted[10]} ms, max ${sorted[19]} ms; ` +
      `RSS of the test process (API + worker) ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
  );
});
