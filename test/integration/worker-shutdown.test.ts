import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createWorker } from '../../src/temporal/create-worker';
import { eventually, testConfig } from '../support/harness';

/**
 * A worker's shutdown cancels the activities in flight. An activity whose client call waits on a
 * workflow (the breaker's hold, a gate's state, bulk retry) must then stop waiting: otherwise the
 * shutdown (a deploy, a SIGTERM) hangs for as long as the call does.
 */
const config = testConfig('');
let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  connection = await Connection.connect({ address: config.temporal.address });
  nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  worker = await createWorker({
    config,
    connection: nativeConnection,
    client,
    workflowsPath: require.resolve('../support/workflows/waiting-activity'),
    // Waits, through the worker's client, until the other workflow ends: here, never.
    extraActivities: { awaitResultOf: (workflowId: string) => client.workflow.getHandle(workflowId).result() },
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await nativeConnection?.close();
  await connection?.close();
});

test('shutdown does not wait for an activity blocked on a client call: the call ends with the activity', async () => {
  const taskQueue = config.temporal.taskQueue;
  const forever = await client.workflow.start('neverEndingWorkflow', {
    taskQueue,
    workflowId: `forever-${randomUUID()}`,
  });
  const waiter = await client.workflow.start('waitsOnAnotherWorkflow', {
    taskQueue,
    workflowId: `waiter-${randomUUID()}`,
    args: [forever.workflowId],
  });
  await eventually(
    async () => (await waiter.describe()).raw.pendingActivities?.some((a) => a.attempt === 1 && a.lastStartedTime),
    'the activity running',
  );

  worker.shutdown();
  // Without the cancellation reaching the client call, this waits as long as the other workflow runs.
  const bound = new AbortController();
  const outcome = await Promise.race([
    running.then(() => 'stopped'),
    sleep(60_000, 'still waiting', { signal: bound.signal }).catch(() => 'bound lifted'),
  ]);
  bound.abort();
  expect(outcome).toBe('stopped');

  // The attempt failed (cancelled by the shutdown): the server retries it on a worker that runs.
  const pending = (await waiter.describe()).raw.pendingActivities?.[0];
  expect(pending?.lastFailure).toBeTruthy();
  expect(pending?.attempt).toBe(2);
  await waiter.terminate('test over');
  await forever.terminate('test over');
}, 120_000);
