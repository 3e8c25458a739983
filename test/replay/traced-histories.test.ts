import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../src/temporal/bundle-workflows';
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';
import { fixtureDataConverter, loadHistories } from '../support/history-fixtures';

/**
 * Tracing can be turned on for a worker whose workflows were started without it: the recorded histories
 * (no trace headers, no OpenTelemetry SDK flags) replay with the workflow interceptors bundled in.
 */
const histories = loadHistories();

try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by an earlier test file in this process
}

test('the recorded histories replay with the OpenTelemetry workflow interceptors bundled in', async () => {
  const bundle = await bundleWorkflows(
    require.resolve('../../src/workflows'),
    { failureConverterPath: FAILURE_CONVERTER_PATH },
    { tracing: true },
  );
  const failures: string[] = [];
  const replays = Worker.runReplayHistories(
    {
      workflowBundle: bundle,
      dataConverter: fixtureDataConverter(),
      // Workflow spans are dropped here (a replay worker calls no sink anyway; unregistered, each call logs an error).
      sinks: { exporter: { export: { fn: () => undefined } } },
    },
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
