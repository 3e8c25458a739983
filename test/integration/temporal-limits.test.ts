import { randomUUID } from 'node:crypto';
import { startDurably } from '../../src/temporal/start-durably';
import { UnprocessableError } from '../../src/errors';
import { MAX_STORED_CHARS } from '../../src/shared/bounded';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * Source data against Temporal's limits, on a real server: ids and values longer than its persistence
 * stores are bounded before they reach it, and what it still refuses is a 422 (do not retry), never the
 * 503 that would have the source retry forever.
 */

const SECRET = 'limits-secret';
let h: Harness;

beforeAll(async () => {
  h = await startHarness(testConfig(`sources:\n  - { id: erp, kind: extend-commerce, secret: ${SECRET} }`), {
    worker: false,
  });
});

afterAll(async () => {
  await h?.stop();
});

test('a 2,000-character NotificationId is accepted once, under a bounded workflow id, and its retry is a duplicate', async () => {
  const body = JSON.stringify(
    extendBody(
      [{ Action: 'OrderCreated', Details: { OrderNumber: 'o'.repeat(3000) } }],
      `${'n'.repeat(2000)}-${randomUUID()}`,
    ),
  );
  const first = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms(SECRET, body) });
  expect(first.statusCode).toBe(202);
  const [event] = first.json().events as Array<{ workflowId: string; duplicate: boolean }>;
  expect(event!.workflowId.length).toBeLessThanOrEqual(MAX_STORED_CHARS);
  expect(event!.duplicate).toBe(false);
  await expect(h.client.workflow.getHandle(event!.workflowId).describe()).resolves.toMatchObject({
    status: { name: 'RUNNING' },
  });

  const retry = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms(SECRET, body) });
  expect(retry.json().events).toEqual([{ ...event, duplicate: true, eventKey: expect.any(String) }]);
});

test('a body nested deeper than 64 levels is a 400 that says so', async () => {
  const body = JSON.stringify(
    extendBody([
      {
        Action: 'OrderCreated',
        Details: { OrderNumber: 'SO-1', Rows: JSON.parse(`${'['.repeat(100)}1${']'.repeat(100)}`) },
      },
    ]),
  );
  const res = await post(h.app, '/webhooks/erp', body, { 'ms-signature': sign.ms(SECRET, body) });
  expect({ status: res.statusCode, message: res.json().message }).toEqual({
    status: 400,
    message: 'body nests deeper than 64 levels',
  });
});

describe('what Temporal itself refuses is a 422, not a 503', () => {
  const start = (workflowId: string, args: unknown[]) =>
    startDurably(
      h.client,
      'inboundWorkflow',
      { taskQueue: h.config.temporal.taskQueue, workflowId, args: args as never },
      5000,
    );

  test('a workflow id over the server limit', async () => {
    await expect(start(`limits-${'x'.repeat(2000)}`, [])).rejects.toThrow(UnprocessableError);
  });

  test('an argument that cannot be serialised', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const err = await start(`limits-${randomUUID()}`, [deep]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnprocessableError);
    expect((err as UnprocessableError).statusCode).toBe(422);
  });
});
