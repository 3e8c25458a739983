import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { deliveryWorkflowId, subscriptionWorkflowId } from '../../src/shared/outbound';
import { startDevServer, type DevServer } from '../../src/stack/dev-server';
import { FakeHttpPeer } from '../support/fake-http';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';

/**
 * The proof asked for in the security issue: after a full inbound + delivery run on a dev server
 * with SQLite persistence, neither `temporal workflow show` nor the database files contain the
 * subscription secret or a distinctive string of the webhook body. A control payload written without
 * the codec is found by the same searches, so they can see plain text when it is there.
 */
const SECRET = `subscription-secret-${randomBytes(8).toString('hex')}`;
const BODY_MARK = `body-marker-${randomBytes(8).toString('hex')}`;
const CONTROL = `control-marker-${randomBytes(8).toString('hex')}`;

let server: DevServer;
let dbDir: string;
let h: Harness;
let receiver: FakeHttpPeer;

beforeAll(async () => {
  dbDir = mkdtempSync(join(tmpdir(), 'hookflow-sqlite-'));
  server = await startDevServer({ cli: process.env.TEMPORAL_CLI!, dbFile: join(dbDir, 'temporal.sqlite'), headless: true });
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  const config = testConfig('sources: [{ id: erp, kind: extend-commerce, secret: extend-source-secret }]');
  config.temporal.address = server.address;
  h = await startHarness(config);
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await server?.stop();
});

/** `temporal workflow show -o json`, with every base64 payload field decoded so plain text would show. */
function show(workflowId: string): string {
  const output = execFileSync(process.env.TEMPORAL_CLI!, ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--output', 'json'], { encoding: 'utf8' });
  const decoded: string[] = [output];
  JSON.parse(output, (key, value) => {
    if (typeof value === 'string' && (key === 'data' || key === 'encoding')) decoded.push(Buffer.from(value, 'base64').toString('latin1'));
    return value;
  });
  return decoded.join('\n');
}

test('no secret and no body text in `temporal workflow show` or in the SQLite files', async () => {
  const subscriptionId = await createSubscription(h, { url: `${receiver.url}/in`, secret: SECRET, triggers: ['extend-commerce.*'], auth: { type: 'x-auth-token', token: `${SECRET}-token` } });
  const text = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: 'SAR-1', Comment: BODY_MARK } }]));
  const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms('extend-source-secret', text) });
  const inboundId: string = res.json().events[0].workflowId;
  await h.client.workflow.getHandle(inboundId).result();
  const deliveryId = deliveryWorkflowId(inboundId.slice('inbound/'.length), subscriptionId);
  await h.client.workflow.getHandle(deliveryId).result();
  expect(receiver.requestsTo('/in')[0]?.body.toString()).toContain(BODY_MARK); // it did travel, to the subscriber only

  // Control: a payload written without the codec.
  const connection = await Connection.connect({ address: server.address });
  await new Client({ connection }).workflow.start('inboundWorkflow', { taskQueue: 'no-worker-here', workflowId: 'control', args: [{ note: CONTROL }] });
  await connection.close();

  for (const id of [inboundId, deliveryId, subscriptionWorkflowId(subscriptionId)]) {
    const output = show(id);
    expect(output).toContain('binary/encrypted');
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain(BODY_MARK);
  }
  expect(show('control')).toContain(CONTROL);

  await h.stop();
  await server.stop(); // flush SQLite's WAL into the files we read
  const files = readdirSync(dbDir).map((name) => readFileSync(join(dbDir, name)).toString('latin1'));
  expect(files.length).toBeGreaterThan(0);
  expect(files.some((content) => content.includes(CONTROL))).toBe(true);
  for (const content of files) {
    expect(content).not.toContain(SECRET);
    expect(content).not.toContain(BODY_MARK);
  }
});
