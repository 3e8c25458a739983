import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/shared/search-attributes';
import { temporal } from '@temporalio/proto';

/** Path of the wrapper that starts Temporal's Java time-skipping test server (fetched once by the script). */
export function testServerPath(): string {
  const script = resolve(__dirname, '../../scripts/ensure-test-server.sh');
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

const INDEXED_VALUE_TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  KeywordList: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * A time-skipping environment on the Java test server, with hookflow's search attributes registered:
 * the test server, like a real one, rejects workflows that set attributes it does not know.
 */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
  try {
    const searchAttributes = Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTE_TYPES).map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]!]),
    );
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes,
    });
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

/**
 * Worker logs at WARN, minus the failed attempts and workflows the tests cause on purpose (they would
 * bury a real warning). Once per process: the Runtime cannot be installed twice.
 */
export function quietExpectedFailures(): void {
  const expected = new Set(['Activity failed', 'Workflow failed']);
  try {
    Runtime.install({
      logger: new DefaultLogger(
        'WARN',
        (entry) => void (expected.has(entry.message) || console.warn(entry.level, entry.message, entry.meta ?? '')),
      ),
    });
  } catch {
    // already installed by an earlier test file in this process
  }
}

/** A worker of the test workflow bundle with these activities on `taskQueue`, running until `stop()`. */
export async function startTestWorker(env: TestWorkflowEnvironment, taskQueue: string, activities: object) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! },
    activities,
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
