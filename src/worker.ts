import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import { loadConfig } from './config/load';
import type { HookflowConfig } from './config/schema';
import { optionalKeyring, requireKeyring } from './security/from-config';
import { SubscriptionStore } from './subscriptions/store';
import { createWorker } from './temporal/create-worker';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown(), or on a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Connects to Temporal, runs hookflow's workflows and activities, and creates or updates the
 * subscriptions declared in the config file (that needs the worker running: they are workflow updates).
 */
export async function startWorker(config: HookflowConfig, options: { workflowBundle?: WorkerOptions['workflowBundle'] } = {}): Promise<RunningWorker> {
  const keyring = config.subscriptions.length ? requireKeyring(config, 'subscriptions in the config file') : optionalKeyring(config);
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const worker = await createWorker({ config, connection: nativeConnection, client, keyring, workflowBundle: options.workflowBundle });
  const done = worker.run().finally(async () => {
    await connection.close();
    await nativeConnection.close();
  });
  if (keyring && config.subscriptions.length) {
    const store = new SubscriptionStore(client, config.temporal.taskQueue, keyring);
    for (const declared of config.subscriptions) await store.upsert(declared);
  }
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

if (require.main === module) {
  // Worker.run() also shuts down gracefully on SIGINT/SIGTERM: the SDK installs those handlers.
  startWorker(loadConfig())
    .then((running) => running.done)
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
