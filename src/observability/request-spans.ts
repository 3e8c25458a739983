import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { correlateLogger } from './logger';
import type { Tracing } from './tracing';

/** Probes and scrapes: polled all day long, not worth a trace each. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * A server span per request (a root: a source's own trace ids are not continued into ours). Route
 * handlers run inside it, so the workflow starts they make (the Temporal client interceptor) are its
 * children, and the request's log lines carry its trace id. Attributes: method, route, status code,
 * and what the route adds (the webhook's source and verification result); never the URL's query, a
 * header or the body. Register before the routes: handlers are wrapped as they are added.
 */
export function installRequestSpans(app: FastifyInstance, tracing: Tracing): void {
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function traced(this: FastifyInstance, request, reply) {
      const span = spans.get(request);
      if (!span) return handler.call(this, request, reply);
      return context.with(trace.setSpan(context.active(), span), () => handler.call(this, request, reply));
    } as typeof handler;
  });

  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route === undefined || UNTRACED.has(route)) return;
    const span = tracing.tracer.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      root: true,
      attributes: { 'http.request.method': request.method, 'http.route': route },
    });
    spans.set(request, span);
    // "request completed" (logged after the response, outside the handler's context) joins the trace too.
    correlateLogger(request.log, span.spanContext());
  });

  const end = async (request: FastifyRequest, statusCode?: number) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    const source = request.source?.id;
    if (source) span.setAttribute('hookflow.source', source);
    if (statusCode !== undefined) {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request) => end(request));
}

/** The webhook's verification outcome on its request span (a no-op when tracing is off). */
export function markVerification(verified: boolean): void {
  trace.getActiveSpan()?.setAttribute('hookflow.webhook.verified', verified);
}
