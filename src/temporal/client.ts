import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ClientInterceptors,
} from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { HookflowConfig } from '../config/schema';
import type { Tracing } from '../observability/tracing';
import { dataConverterFor } from './data-converter';

/**
 * With tracing on, workflow starts, signals and updates are spans, and the workflow gets the active trace
 * context in its `_tracer-data` header (a W3C traceparent; headers are not payload-encoded, so nothing
 * else goes there). Off: none.
 */
export function tracingClientInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } : undefined;
}

/**
 * The API's Temporal client. The connection is lazy so the API starts (and answers 503) while Temporal is
 * down. The SDK's gRPC retry goes on after a call is abandoned, so the API keeps it short: a webhook
 * that Temporal cannot take within `ackTimeout` is answered 503 and retried by its source anyway.
 */
export function createApiClient(config: HookflowConfig, tracing?: Tracing): { client: Client; connection: Connection } {
  const connection = Connection.lazy({
    address: config.temporal.address,
    connectTimeout: config.server.ackTimeout,
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 4 }))],
  });
  return {
    connection,
    client: new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverterFor(config),
      interceptors: tracingClientInterceptors(tracing),
    }),
  };
}
