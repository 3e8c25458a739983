import { trace, type Attributes } from '@opentelemetry/api';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** What `deliver` and `fetchFollowUp` resolve, as far as a span needs it (ids, numbers, outcomes: no bodies). */
interface AttemptResult {
  status?: string | number;
  httpStatus?: number;
  attempt?: number;
}

function failureAttributes(err: unknown): Attributes {
  if (!(err instanceof ApplicationFailure) || !err.type) return { 'hookflow.attempt.outcome': 'failed' };
  const http = /^Http(\d{3})$/.exec(err.type);
  return {
    'hookflow.attempt.outcome': err.nonRetryable ? 'stop' : 'retry',
    'hookflow.failure_type': err.type,
    ...(http ? { 'http.response.status_code': Number(http[1]) } : {}),
  };
}

function resultAttributes(activityType: string, result: AttemptResult | undefined): Attributes {
  if (activityType === 'deliver')
    return {
      'hookflow.attempt.outcome': String(result?.status ?? 'delivered'),
      ...(result?.httpStatus !== undefined ? { 'http.response.status_code': result.httpStatus } : {}),
    };
  return typeof result?.status === 'number' ? { 'http.response.status_code': result.status } : {};
}

/**
 * Adds the attempt's facts to the activity span of the OpenTelemetry interceptor (it runs inside it):
 * retry number, HTTP status, duration, outcome, and which subscription or source it was for. Only
 * `deliver` and `fetchFollowUp`; the inputs' event data and the answers' bodies stay out of spans.
 */
export function attemptSpanInterceptor(): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const type = ctx.info.activityType;
    if (type !== 'deliver' && type !== 'fetchFollowUp') return {};
    return {
      inbound: {
        async execute(input, next) {
          const span = trace.getActiveSpan();
          if (!span) return next(input);
          const arg = input.args[0] as { subscriptionId?: unknown; sourceId?: unknown } | undefined;
          span.setAttributes({
            'hookflow.attempt': ctx.info.attempt,
            ...(typeof arg?.subscriptionId === 'string' ? { 'hookflow.subscription_id': arg.subscriptionId } : {}),
            ...(typeof arg?.sourceId === 'string' ? { 'hookflow.source': arg.sourceId } : {}),
          });
          const started = performance.now();
          const duration = () => ({ 'hookflow.attempt.duration_ms': Math.round(performance.now() - started) });
          try {
            const result = (await next(input)) as AttemptResult | undefined;
            span.setAttributes({ ...resultAttributes(type, result), ...duration() });
            if (typeof result?.attempt === 'number') span.setAttribute('hookflow.attempt', result.attempt);
            return result;
          } catch (err) {
            span.setAttributes({ ...failureAttributes(err), ...duration() });
            throw err;
          }
        },
      },
    };
  };
}
