import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../../src/api/app';
import { freePort } from '../../src/observability/free-port';
import { createApiClient } from '../../src/temporal/client';
import { testConfig } from '../support/harness';
import { extendBody, post, sign } from '../support/webhooks';

/** A front door whose Temporal is down must refuse with 503 + Retry-After, so the source retries. */
test('Temporal unreachable: signed webhook gets 503 with Retry-After, never 2xx', async () => {
  const deadPort = await freePort(); // nothing listens here
  const config = testConfig(`
server: { ackTimeout: PT1S }
sources: [{ id: erp, kind: extend-commerce, secret: s }]
`);
  config.temporal.address = `127.0.0.1:${deadPort}`;
  const { client, connection } = createApiClient(config);
  const app = await buildApp({ config, client });
  try {
    const text = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: '1' } }]));
    const res = await post(app, '/webhooks/erp', text, { 'ms-signature': sign.ms('s', text) });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({
      error: 'unavailable',
      message: 'the workflow engine did not accept the event in time; retry later',
    });

    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
  } finally {
    await app.close();
    // Let the client's bounded gRPC retries of the abandoned calls run out before closing the channel
    // (closing under a pending retry throws inside the SDK's retry timer).
    await sleep(1500);
    await connection.close();
  }
});
