import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import { buildApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';
import { createLogger, loggerOptions } from '../../src/observability/logger';
import { startTracing, traceparentHeader, tracingSettings } from '../../src/observability/tracing';
import { sign } from '../support/signatures';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { stream, lines };
}

describe('tracing settings: the standard OTEL_* variables', () => {
  test('off without an OTLP endpoint, or when disabled', () => {
    expect(tracingSettings({})).toBeUndefined();
    expect(startTracing({})).toBeUndefined();
    expect(traceparentHeader()).toEqual({});
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBeUndefined();
    expect(
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).toBeUndefined();
  });

  test('the traces endpoint as given, or the base endpoint + /v1/traces; the service name', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toEqual({
      url: 'http://c:4318/v1/traces',
      serviceName: 'hookflow',
    });
    expect(
      tracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/traces',
        OTEL_SERVICE_NAME: 'hookflow-eu',
      }),
    ).toEqual({ url: 'http://t:4318/traces', serviceName: 'hookflow-eu' });
  });
});

describe('log lines carry the trace id', () => {
  // Nothing listens there: spans are only exported (and refused) when the provider shuts down.
  const tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' })!;
  afterAll(() => tracing.close());

  test('a line logged inside a span has its ids; one outside has none', () => {
    const out = capture();
    const logger = createLogger('info', out.stream);
    tracing.tracer.startActiveSpan('work', (span) => {
      logger.info('inside');
      expect(traceparentHeader()).toEqual({
        traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
      });
      span.end();
    });
    logger.info('outside');
    const [inside, outside] = out.lines;
    expect(inside).toMatchObject({ msg: 'inside', trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(outside!.msg).toBe('outside');
    expect(outside!.trace_id).toBeUndefined();
  });

  test("an API request's lines, including the one after the response, carry its span's trace id", async () => {
    const out = capture();
    const config = parseConfig('sources:\n  - { id: erp, kind: extend-commerce, secret: s3cret }', {});
    // No Temporal needed: the request is refused (bad signature) before a workflow would be started.
    const app = await buildApp({
      config,
      client: {} as Client,
      logger: { ...loggerOptions('info'), stream: out.stream },
      tracing,
    });
    const body = '{"Notifications":[]}';
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/erp',
      payload: body,
      headers: { 'content-type': 'application/json', 'ms-signature': sign.ms('wrong', body) },
    });
    await app.close();
    expect(res.statusCode).toBe(401);
    const completed = out.lines.find((l) => l.msg === 'request completed')!;
    const traceId = completed.trace_id as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const afterIncoming = out.lines.filter((l) => l.msg !== 'incoming request');
    expect(afterIncoming.length).toBeGreaterThanOrEqual(1);
    for (const line of afterIncoming) expect(line.trace_id).toBe(traceId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
