import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';
import type { HookflowConfig } from '../../src/config/schema';
import { createWorker } from '../../src/temporal/create-worker';

// Workers log at WARN in tests: failures show, routine activity does not.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // already installed by an earlier test file in this process
}

export function testTemporalAddress(): string {
  const address = process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('HOOKFLOW_TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (globalSetup)');
  return address;
}

/** Config from YAML, pointed at the test server and a task queue of its own (tests do not share workers). */
export function testConfig(yaml: string, env: NodeJS.ProcessEnv = {}): HookflowConfig {
  const config = parseConfig(yaml, { ...env, TEMPORAL_ADDRESS: testTemporalAddress(), HOOKFLOW_TASK_QUEUE: `test-${randomUUID()}` }, 'test config');
  return config;
}

export interface Harness {
  config: HookflowConfig;
  client: Client;
  app: HookflowApp;
  worker: Worker;
  stop(): Promise<void>;
}

/** The real thing, in-process: Temporal client + API (used through app.inject) + a worker on its own task queue. */
export async function startHarness(config: HookflowConfig, options: { worker?: boolean } = {}): Promise<Harness> {
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const app = await buildApp({ config, client });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createWorker({
    config,
    connection: nativeConnection,
    workflowBundle: { codePath: process.env.HOOKFLOW_TEST_BUNDLE! },
  });
  const running = options.worker === false ? Promise.resolve() : worker.run();
  return {
    config,
    client,
    app,
    worker,
    async stop() {
      await app.close();
      if (options.worker !== false) {
        worker.shutdown();
        await running;
      }
      await nativeConnection.close();
      await connection.close();
    },
  };
}
