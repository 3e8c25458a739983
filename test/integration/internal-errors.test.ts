import { Client, Connection } from '@temporalio/client';
import { buildApp } from '../../src/api/app';
import { ADMIN_TOKEN, testConfig } from '../support/harness';

// docs/security.md: "errors never leak internals (a generic 500)". The app runs with a real Temporal client whose
// visibility call (what GET /api/subscriptions uses) throws a plain Error carrying internal details, the
// way a bug or an unexpected driver error would: the answer is the generic 500, the details go to the log only.
const INTERNAL = 'connect to postgres://hookflow:s3cret@db.internal:5432 failed at /srv/hookflow/src/x.ts:12';

let connection: Connection;
afterAll(async () => {
  await connection?.close();
});

test('an unexpected error in a route is a generic 500: no message, no stack, no internal detail', async () => {
  const config = testConfig('');
  connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  client.workflow.list = () => {
    throw new Error(INTERNAL);
  };
  const logged: string[] = [];
  const app = await buildApp({
    config,
    client,
    logger: { level: 'error', stream: { write: (line: string) => void logged.push(line) } },
  });
  try {
    const res = await app.inject({ url: '/api/subscriptions', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: expect.any(String), message: 'internal error' });
    for (const leak of ['s3cret', 'postgres', 'db.internal', '/srv/', 'x.ts', 'Error:', '    at '])
      expect(res.body).not.toContain(leak);
    // The details are in the log, for the operator.
    expect(logged.join('\n')).toContain('db.internal');
  } finally {
    await app.close();
  }
});
