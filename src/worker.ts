import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from './config/load';
import type { HookflowConfig } from './config/schema';
import { startTracing } from './observability/tracing';
import { installBacklogMetrics } from './observability/backlog-metrics';
import { startWorkerObservability } from './observability/worker-observability';
import { optionalKeyring, requireKeyring } from './security/from-config';
import { closeExpressionPool } from './subscriptions/expression-pool';
import { SubscriptionStore } from './subscriptions/store';
import { tracingClientInterceptors } from './temporal/client';
import { createWorker, type CreateWorkerOptions } from './temporal/create-worker';
import { dataConverterFor } from './temporal/data-converter';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown(), or on a fatal error). */
  done: Promise<void>;
  /** The worker's own `GET /metrics`, when it is listening. */
  metricsUrl?: string;
  shutdown(): Promise<void>;
}

/**
 * Connects to Temporal, runs hookflow's workflows and activities, and creates or updates the
 * subscriptions declared in the config file (that needs the worker running: they are workflow updates).
 */
export type StartWorkerOptions = Pick<CreateWorkerOptions, 'workflowBundle' | 'workflowsPath' | 'extraActivities'> & {
  /** Where the `OTEL_*` variables are read (tracing is off without an OTLP endpoint); process.env by default. */
  otelEnv?: NodeJS.ProcessEnv;
};

export async function startWorker(
  config: HookflowConfig,
  { otelEnv, ...options }: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const keyring = config.subscriptions.length
    ? requireKeyring(config, 'subscriptions in the config file')
    : optionalKeyring(config);
  const observability = await startWorkerObservability(config); // before any NativeConnection: it installs the Runtime
  const tracing = startTracing(otelEnv);
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const connection = await Connection.connect({ address: config.temporal.address });
  // Activities start and signal workflows with it: those carry the activity's trace context on.
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
    interceptors: tracingClientInterceptors(tracing),
  });
  const worker = await createWorker({ config, connection: nativeConnection, client, keyring, tracing, ...options });
  const metrics = await observability.serveMetrics(); // only once nothing above can fail, so there is no server to leak
  const uninstallBacklogMetrics = installBacklogMetrics(client, config.temporal.taskQueue); // read from visibility on scrape only
  const done = worker.run().finally(async () => {
    await tracing?.close(); // exports the spans still batched
    uninstallBacklogMetrics();
    await observability.close();
    await connection.close();
    await nativeConnection.close();
    await closeExpressionPool(); // its threads (idle ones exit by themselves)
  });
  if (keyring && config.subscriptions.length) {
    const store = new SubscriptionStore(client, config.temporal.taskQueue, keyring);
    for (const declared of config.subscriptions) await store.upsert(declared);
  }
  return {
    worker,
    done,
    metricsUrl: metrics?.url,
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
