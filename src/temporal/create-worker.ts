import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { createHttpAgent } from '../activities/http';
import type { HookflowConfig } from '../config/schema';
import { activityMetricsInterceptor } from '../observability/activity-metrics';
import type { Keyring } from '../security/keyring';
import { bundleWorkflows } from './bundle-workflows';
import { dataConverterFor } from './data-converter';

export interface CreateWorkerOptions {
  config: HookflowConfig;
  connection: NativeConnection;
  /** Client used by activities (subscription state, starting deliveries). */
  client: Client;
  keyring?: Keyring;
  http?: Dispatcher;
  /** A pre-built bundle (tests bundle once per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Another workflows file (the benchmark adds raw baselines to hookflow's workflows). */
  workflowsPath?: string;
  /** Activities besides hookflow's own (the benchmark's no-op). */
  extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
}

export async function createWorker({
  config,
  connection,
  client,
  keyring,
  http,
  workflowBundle,
  workflowsPath,
  extraActivities,
}: CreateWorkerOptions): Promise<Worker> {
  const dataConverter = dataConverterFor(config);
  const activities = createActivities({
    config,
    client,
    keyring,
    http: http ?? createHttpAgent(config.network.allow),
    healthReports: true,
  });
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: { ...activities, ...extraActivities },
    // Delivery and follow-up metrics are measured around the activities, not inside them.
    interceptors: { activity: [activityMetricsInterceptor()] },
    dataConverter,
    // Bounded: a delivery parked in backoff for an hour need not stay in memory; evicted ones replay
    // their (short) history when their timer fires.
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
    // Bundled here rather than by Worker.create, so that webpack's report is logged at debug level.
    workflowBundle:
      workflowBundle ?? (await bundleWorkflows(workflowsPath ?? require.resolve('../workflows'), dataConverter)),
  });
}
