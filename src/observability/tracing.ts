import { context, propagation, trace, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/**
 * OpenTelemetry traces, configured by the standard `OTEL_*` variables and off unless an OTLP endpoint is
 * set: then nothing here is installed and every call below is a no-op (the API's no-op tracer).
 * One provider per process (the API and the worker share it when they run in one, as `npm start` does).
 */
export interface Tracing {
  /** hookflow's own spans (the webhook request). */
  tracer: Tracer;
  /** Where the worker hands the spans its workflows made in their sandbox (`makeWorkflowExporter`). */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Exports the spans ended so far (tests; shutdown does it too). */
  flush(): Promise<void>;
  /** Releases this user's share; the last one flushes and uninstalls the provider. */
  close(): Promise<void>;
}

export interface TracingSettings {
  /** OTLP/HTTP traces URL (…/v1/traces). */
  url: string;
  serviceName: string;
}

/**
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`);
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off whatever the endpoint.
 */
export function tracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  return { url, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'hookflow' };
}

let shared: { tracing: Tracing; users: number; provider: BasicTracerProvider } | undefined;

/**
 * The process's tracing, started on first use (later calls share it: the first one's settings win);
 * undefined (off) without an OTLP endpoint in `env`.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
  if (shared) {
    shared.users += 1;
    return shared.tracing;
  }
  const resource = Resource.default()
    .merge(envDetectorSync.detect()) // OTEL_RESOURCE_ATTRIBUTES
    .merge(new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName }));
  // OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_* and the timeouts are read by the exporter and processor themselves.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.url }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // W3C trace context only (no baggage): the `_tracer-data` header Temporal carries holds a traceparent and nothing else.
  provider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new W3CTraceContextPropagator(),
  });
  const tracing: Tracing = {
    tracer: trace.getTracer('hookflow'),
    spanProcessor,
    resource,
    flush: () => provider.forceFlush(),
    async close() {
      if (!shared || shared.tracing !== tracing) return;
      shared.users -= 1;
      if (shared.users > 0) return;
      shared = undefined;
      // An unreachable collector loses the last batch; it must not fail the process's shutdown.
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
  shared = { tracing, users: 1, provider };
  return tracing;
}

/** The active span's context, when a trace is being recorded. */
export function activeSpanContext(): SpanContext | undefined {
  const span: Span | undefined = trace.getActiveSpan();
  const spanContext = span?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * The W3C `traceparent` of the active span (a delivery attempt), for the receiver to continue the trace;
 * empty when tracing is off.
 */
export function traceparentHeader(): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (activeSpanContext()) propagation.inject(context.active(), carrier);
  return carrier.traceparent ? { traceparent: carrier.traceparent } : {};
}
