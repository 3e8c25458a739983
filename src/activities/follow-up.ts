import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { request, type Dispatcher } from 'undici';
import type { HookflowConfig } from '../config/schema';
import { allowedFollowUpUrl } from '../sources/follow-up-url';
import type { FollowUpResult } from '../shared/inbound';
import { FailureType } from '../shared/failure-types';
import { authHeaders, isRetryableStatus, parseRetryAfterMs, readLimited, ssrfFailure } from './http';

/** Follow-up bodies become workflow payloads, which Temporal bounds (2 MB by default). */
export const FOLLOW_UP_LIMIT_BYTES = 1024 * 1024;

export interface FollowUpDeps {
  config: HookflowConfig;
  http: Dispatcher;
}

/**
 * GETs the full object behind a thin notification from the source's API, with the source's auth and
 * timeout. 404/410 are a permanent "not found"; other 4xx are permanent; 5xx, 408, 429 and network
 * errors are retried by the workflow's retry policy.
 */
export function createFollowUpActivity({ config, http }: FollowUpDeps) {
  return async function fetchFollowUp(input: {
    sourceId: string;
    url: string;
    maxTimeoutMs?: number;
  }): Promise<FollowUpResult> {
    const source = config.sources.find((s) => s.id === input.sourceId);
    if (!source?.followUp) {
      throw ApplicationFailure.create({
        type: FailureType.FollowUpNotConfigured,
        message: `source ${input.sourceId} has no follow-up configured`,
        nonRetryable: true,
      });
    }
    const { auth } = source.followUp;
    const timeout = Math.min(source.followUp.timeout, input.maxTimeoutMs ?? Infinity);
    // Checked again here (the front door plans the URL): an invalid URL, or one outside the source's
    // templates (scheme, host, port, path prefix), fails at once instead of being retried, and never
    // receives the source API's credentials.
    const allowed = allowedFollowUpUrl(source, input.url);
    if ('refused' in allowed) {
      throw ApplicationFailure.create({
        type: FailureType.FollowUpUrlRefused,
        message: allowed.refused,
        nonRetryable: true,
      });
    }
    const response = await request(allowed.url, {
      method: 'GET',
      dispatcher: http,
      headers: { accept: 'application/json', 'user-agent': 'hookflow', ...authHeaders(auth) },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    }).catch((err: unknown) => {
      // A refused address is permanent: the event ends as follow-up-failed now; so is a URL undici refuses.
      if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG') {
        throw ApplicationFailure.create({
          type: FailureType.FollowUpUrlRefused,
          message: `invalid follow-up request: ${(err as Error).message}`,
          nonRetryable: true,
        });
      }
      throw ssrfFailure(err) ?? err;
    });
    const status = response.statusCode;
    const body = await readLimited(response.body, FOLLOW_UP_LIMIT_BYTES);
    log.info('follow-up fetched', { sourceId: input.sourceId, status });

    if (status === 404 || status === 410) {
      throw ApplicationFailure.create({
        type: FailureType.FollowUpNotFound,
        message: `follow-up ${input.url} answered ${status}`,
        nonRetryable: true,
      });
    }
    if (isRetryableStatus(status)) {
      const retryAfter = parseRetryAfterMs(response.headers['retry-after']);
      throw ApplicationFailure.create({
        type: FailureType.FollowUpUnavailable,
        message: `follow-up ${input.url} answered ${status}`,
        nextRetryDelay: retryAfter,
      });
    }
    if (status < 200 || status >= 300) {
      throw ApplicationFailure.create({
        type: FailureType.FollowUpRejected,
        message: `follow-up ${input.url} answered ${status}`,
        nonRetryable: true,
      });
    }
    if (!body) {
      throw ApplicationFailure.create({
        type: FailureType.FollowUpTooLarge,
        message: `follow-up body is over ${FOLLOW_UP_LIMIT_BYTES} bytes`,
        nonRetryable: true,
      });
    }
    const text = body.toString('utf8');
    const isJson = /json/i.test(String(response.headers['content-type'] ?? ''));
    let data: unknown = text;
    if (isJson) {
      try {
        data = JSON.parse(text);
      } catch {
        throw ApplicationFailure.create({
          type: FailureType.FollowUpRejected,
          message: 'follow-up answered invalid JSON',
          nonRetryable: true,
        });
      }
    }
    return { url: input.url, status, data, fetchedAt: new Date(attemptClockMs()).toISOString() };
  };
}

/**
 * Now, for an activity attempt: the worker's clock, or the time Temporal scheduled this attempt when that
 * is later (the same instant in production; under a time-skipping test server only the latter moves).
 */
export function attemptClockMs(now: () => number = Date.now): number {
  return Math.max(now(), Context.current().info.currentAttemptScheduledTimestampMs);
}
