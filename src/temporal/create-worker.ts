import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { createHttpAgent } from '../activities/http';
import type { HookflowConfig } from '../config/schema';
import type { Keyring } from '../security/keyring';

export interface CreateWorkerOptions {
  config: HookflowConfig;
  connection: NativeConnection;
  /** Client used by activities (subscription state, starting deliveries). */
  client: Client;
  keyring?: Keyring;
  http?: Dispatcher;
  /** A pre-built bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  overrides?: Partial<WorkerOptions>;
}

export async function createWorker({ config, connection, client, keyring, http, workflowBundle, overrides }: CreateWorkerOptions): Promise<Worker> {
  const activities = createActivities({ config, client, keyring, http: http ?? createHttpAgent() });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    ...overrides,
  });
}
