import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { fixtureDataConverter, loadHistories } from '../support/history-fixtures';

/**
 * Every recorded history (test/fixtures/histories) replays against the current workflow code, with the
 * data converter it was recorded with: a change that would make a running workflow replay differently
 * (a command added, removed or reordered without `patched`) fails here (docs/workflow-versioning.md).
 */
const histories = loadHistories();

try {
  // The replay worker's routine state changes (INFO) would bury a real warning.
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by an earlier test file in this process
}

test('there is a recorded history of every workflow type', () => {
  expect(new Set(histories.map((h) => h.workflowType))).toEqual(
    new Set([
      'inboundWorkflow',
      'deliveryWorkflow',
      'subscriptionWorkflow',
      'envelopeWorkflow',
      'laneWorkflow',
      'replayWorkflow',
      'coalesceWorkflow',
      'healthWorkflow',
      'bulkRetryWorkflow',
      'gateWorkflow',
    ]),
  );
});

test('the recorded histories replay without non-determinism', async () => {
  const failures: string[] = [];
  const replays = Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! }, dataConverter: fixtureDataConverter() },
    histories.map(({ name, history }) => ({ workflowId: name, history })),
  );
  let replayed = 0;
  for await (const result of replays) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(histories.length);
}, 120_000);
