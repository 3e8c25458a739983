import type { Client } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import {
  NativeConnection,
  Worker,
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  type WorkerOptions,
} from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Dispatcher } from 'undici';
import { createActivities } from '../activities';
import { createHttpAgent } from '../activities/http';
import type { HookflowConfig } from '../config/schema';
import { clientCallsEndOnCancellation } from './activity-cancellation';
import { activityMetricsInterceptor } from '../observability/activity-metrics';
import { attemptSpanInterceptor } from '../observability/attempt-spans';
import type { Tracing } from '../observability/tracing';
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
  /**
   * OpenTelemetry (src/observability/tracing.ts): activity spans, and workflow spans exported through a
   * sink. A pre-built `workflowBundle` has workflow spans only if it was bundled with `tracing: true`.
   */
  tracing?: Tracing;
}

/**
 * Workflow spans reach the worker through this sink. The SDK's exporter copies the workflow info it is
 * given into every span's attributes: given all of it, memo, search attributes and the last result or
 * failure (event data) would be exported. It gets the ids and names only.
 */
function workflowSpanSinks(tracing: Tracing): InjectedSinks<OpenTelemetrySinks> {
  const sdk = makeWorkflowExporter(tracing.spanProcessor, tracing.resource).export;
  return {
    exporter: {
      export: {
        ...sdk,
        fn: (info, spans) => {
          const { workflowId, runId, workflowType, taskQueue, namespace, attempt } = info;
          const ids = { workflowId, runId, workflowType, taskQueue, namespace, attempt };
          return sdk.fn(ids as WorkflowInfo, spans);
        },
      },
    },
  };
}

/** Activity spans (continuing the workflow's trace from the `_tracer-data` header), with the attempt's facts. */
function tracingActivityInterceptors(): ActivityInterceptorsFactory[] {
  return [
    (ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      // Activity log lines get trace_id and span_id.
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
    attemptSpanInterceptor(),
  ];
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
  tracing,
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
    interceptors: {
      activity: [
        clientCallsEndOnCancellation(client.connection),
        ...(tracing ? tracingActivityInterceptors() : []),
        activityMetricsInterceptor(),
      ],
    },
    // Workflow spans are made in the sandbox and handed out through this sink (not called during replay).
    ...(tracing ? { sinks: workflowSpanSinks(tracing) } : {}),
    dataConverter,
    // Bounded: a delivery parked in backoff for an hour need not stay in memory; evicted ones replay
    // their (short) history when their timer fires.
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
    // Bundled here rather than by Worker.create, so that webpack's report is logged at debug level.
    workflowBundle:
      workflowBundle ??
      (await bundleWorkflows(workflowsPath ?? require.resolve('../workflows'), dataConverter, { tracing: !!tracing })),
  });
}
