import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from './config/load';
import type { HookflowConfig } from './config/schema';
import { createWorker } from './temporal/create-worker';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown(), or on a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Connects to Temporal and runs hookflow's workflows and activities. */
export async function startWorker(config: HookflowConfig): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createWorker({ config, connection });
  const done = worker.run().finally(() => connection.close());
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
