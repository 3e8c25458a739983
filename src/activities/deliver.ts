import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { buildRequest } from '../delivery/envelope';
import { ExpressionError } from '../subscriptions/expressions';
import { signRequest, type OpenedCredentials } from '../delivery/sign-request';
import type { Keyring } from '../security/keyring';
import { unseal } from '../security/sealed';
import { openSecrets } from '../subscriptions/seal';
import {
  ATTEMPT_BODY_LIMIT,
  TEST_EVENT_TYPE,
  attemptFailedSignal,
  scheduleBackoffMs,
  type AttemptFailureDetails,
  type AttemptRecord,
  type AttemptReport,
  type AwaitingGateDetails,
  type DeliveryAttemptResult,
  type DeliveryInput,
  type OutboundEvent,
} from '../shared/delivery';
import { applySubscriptionUpdate, subscriptionWorkflowId, type Subscription } from '../shared/subscription';
import type { FollowUpResult } from '../shared/inbound';
import { attemptClockMs } from './follow-up';
import { FailureType, httpFailureType } from '../shared/failure-types';
import {
  attemptBody,
  isRetryableStatus,
  keptHeaders,
  networkErrorWords,
  parseRetryAfterMs,
  readHead,
  ssrfFailure,
  statusText,
} from './http';
import { readSubscription } from '../subscriptions/lookup';
import { traceparentHeader } from '../observability/tracing';
import { gateDoneSignal, gateMode, gateWorkflowId } from '../shared/gate';
import type { TlsAgents } from './tls-agents';

/**
 * A failed attempt's failure as the Web UI shows it: one line led by its type (`Http503: receiver answered
 * HTTP 503 Service Unavailable`) and no stack trace. Its words come from status codes and error codes only,
 * never from the receiver's body, so the failure converter leaves it readable (src/temporal/failure-converter.ts).
 */
function readableFailure({
  type,
  message,
  nonRetryable,
  nextRetryDelay,
}: {
  type: string;
  message: string;
  nonRetryable?: boolean;
  nextRetryDelay?: number;
}): ApplicationFailure {
  const failure = ApplicationFailure.create({ type, message: `${type}: ${message}`, nonRetryable, nextRetryDelay });
  failure.stack = '';
  return failure;
}

/**
 * A local attempt's failure (the first attempt, src/workflows/delivery.ts) with what the workflow needs in
 * its details: the attempt's report (for the attempt log and the search attributes) and the receiver's
 * Retry-After (the workflow cannot read nextRetryDelay). A regular activity's failure is left as it is.
 */
function forWorkflow(report: AttemptReport | undefined, failure: ApplicationFailure): ApplicationFailure {
  if (!Context.current().info.isLocal) return failure;
  const details: AttemptFailureDetails = {
    ...(report ? { report } : {}),
    ...(typeof failure.nextRetryDelay === 'number' ? { nextRetryDelayMs: failure.nextRetryDelay } : {}),
  };
  const local = ApplicationFailure.create({
    type: failure.type ?? undefined,
    message: failure.message,
    nonRetryable: failure.nonRetryable === true,
    nextRetryDelay: failure.nextRetryDelay ?? undefined,
    details: [details],
  });
  local.stack = '';
  return local;
}

export interface DeliverDeps {
  client: Client;
  /** Tells the subscription's health workflow about a failed attempt (best effort, never throws). */
  reportHealth?: (input: DeliveryInput, report: AttemptReport) => Promise<void>;
  keyring?: Keyring;
  agents: TlsAgents;
  now?: () => number;
  /** The inbound follow-up fetch (src/activities/follow-up.ts), for refreshFollowUpAfter. */
  fetchFollowUp?: (input: { sourceId: string; url: string; maxTimeoutMs?: number }) => Promise<FollowUpResult>;
}

/** A local first attempt waits at most this long for the 410's disabling update. */
const LOCAL_UPDATE_WAIT_MS = 2_000;

/** A refresh at send time waits at most this long for the source's API (inside the attempt's own timeout). */
export const REFRESH_TIMEOUT_MS = 5_000;

function refreshFailure(err: unknown): NonNullable<OutboundEvent['refreshFailed']> {
  const type = err instanceof ApplicationFailure ? err.type : undefined;
  if (type === FailureType.FollowUpNotFound) return 'not-found';
  if (
    type === FailureType.FollowUpRejected ||
    type === FailureType.FollowUpUrlRefused ||
    type === FailureType.FollowUpNotConfigured ||
    type === FailureType.FollowUpTooLarge
  )
    return 'rejected';
  return 'unavailable'; // 5xx, 408, 429, timeouts, connection errors
}

function openCredentials(subscription: Subscription, keyring: Keyring | undefined): OpenedCredentials {
  return openSecrets(subscription, (sealed) => {
    if (!keyring)
      throw ApplicationFailure.create({
        type: FailureType.NoEncryptionKeys,
        message: 'security.encryptionKeys is not configured',
        nonRetryable: true,
      });
    return unseal(keyring, sealed);
  });
}

/**
 * One delivery attempt: read the subscription's current settings, build and sign the body for this
 * attempt, POST it. 2xx = delivered; 3xx, 5xx, 408, 429, timeouts and connection errors = retry
 * (honouring Retry-After); 410 = stop and disable the subscription; other 4xx = stop.
 */
export function createDeliverActivity({
  client,
  keyring,
  agents,
  now = Date.now,
  fetchFollowUp,
  reportHealth,
}: DeliverDeps) {
  /**
   * docs/beyond-delivery.md "Fresh data at send time": an attempt that starts more than `refreshFollowUpAfter` after the
   * follow-up was fetched fetches it again (same URL, same confinement and credentials as the inbound
   * fetch) and delivers that, with its `fetchedAt`. If the refresh fails the attempt still goes out, with
   * the earlier snapshot and `refreshFailed` saying why (not-found, unavailable, rejected). The fresh data
   * lives only in this attempt: it is never written to the workflow's history.
   */
  const withFreshFollowUp = async (event: OutboundEvent, subscription: Subscription): Promise<OutboundEvent> => {
    const after = subscription.refreshFollowUpAfterMs;
    if (after === undefined || !event.followUpSource || !event.fetchedAt || !fetchFollowUp) return event;
    if (attemptClockMs(now) - Date.parse(event.fetchedAt) <= after) return event;
    try {
      const fresh = await fetchFollowUp({ ...event.followUpSource, maxTimeoutMs: REFRESH_TIMEOUT_MS });
      return { ...event, followUp: fresh.data, fetchedAt: fresh.fetchedAt };
    } catch (err) {
      const refreshFailed = refreshFailure(err);
      log.warn('follow-up refresh failed: delivering the earlier snapshot', {
        eventId: event.id,
        refreshFailed,
        error: (err as Error).message,
      });
      return { ...event, refreshFailed };
    }
  };

  const report = async (report: AttemptReport, input: DeliveryInput): Promise<AttemptReport> => {
    await reportHealth?.(input, report); // health/<subscriptionId>
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    // A local attempt's report goes back in its failure (forWorkflow): a signal to the workflow while its
    // task runs the local activity would make the task's completion fail (and the attempt run again).
    if (!workflowId || Context.current().info.isLocal) return report;
    // Best effort: live attempt/status search attributes; the retry itself does not depend on it.
    await client.workflow
      .getHandle(workflowId)
      .signal(attemptFailedSignal, report)
      .catch((err: Error) => log.warn('could not report attempt', { error: err.message }));
    return report;
  };

  /** Tells the gate the permitted attempt's answer at once, so its slot frees before any backoff (best effort). */
  const gateDone = async (input: DeliveryInput, delivered: boolean) => {
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    if (!input.permitted || !workflowId) return;
    await client.workflow
      .getHandle(gateWorkflowId(input.subscriptionId))
      .signal(gateDoneSignal, { workflowId, ...(input.grant !== undefined ? { grant: input.grant } : {}), delivered })
      .catch((err: Error) => log.warn('could not tell the gate', { error: err.message }));
  };

  return async function deliver(input: DeliveryInput): Promise<DeliveryAttemptResult> {
    // Attempts go on counting across invocations (gate, retry now): the receiver sees base + this invocation's.
    const localAttempt = Context.current().info.attempt;
    let reported: AttemptReport | undefined;
    const attempt = (input.attemptBase ?? 0) + localAttempt;
    // A local activity holds its workflow task: it must not wait for another (a query, an update's task).
    const isLocal = Context.current().info.isLocal;
    const read = isLocal
      ? await readSubscription(client, input.subscriptionId, { query: false })
      : await readSubscription(client, input.subscriptionId);
    if (read === 'unread')
      throw ApplicationFailure.create({
        type: FailureType.LocalAttemptDeferred,
        message: 'LocalAttemptDeferred: the subscription needs a query; a regular attempt sends instead',
        nonRetryable: true,
      });
    const subscription = read;
    if (!subscription) return { status: 'skipped', attempt, reason: 'subscription no longer exists' };
    if (!subscription.active && input.event.type !== TEST_EVENT_TYPE) {
      return {
        status: 'skipped',
        attempt,
        reason: `subscription is disabled${subscription.disabledReason ? `: ${subscription.disabledReason}` : ''}`,
      };
    }

    // Held or throttled: an attempt sends only with the gate's permit, which is good for the invocation's first attempt.
    const gated = gateMode(subscription);
    const permitted = input.permitted === true && localAttempt === 1;
    if (gated && !permitted) {
      const details: AwaitingGateDetails = {
        reason: gated,
        attempt: localAttempt,
        ...(subscription.hold?.budgetRuns ? { budgetRuns: true } : {}),
      };
      throw ApplicationFailure.create({
        type: FailureType.AwaitingGate,
        message: `AwaitingGate: subscription ${gated}, attempt ${attempt} waits for a permit`,
        nonRetryable: true,
        details: [details],
      });
    }
    // Temporal's backoff counts this invocation's attempts only: past the first invocation, or gated, the
    // delay comes from the delivery's attempt number, so the curve is the policy's.
    const backoff = (retryAfter: number | undefined) =>
      retryAfter ?? (gated || attempt !== localAttempt ? scheduleBackoffMs(input.schedule, attempt) : undefined);

    const event = await withFreshFollowUp(input.event, subscription);
    const snapshot =
      event.fetchedAt && subscription.refreshFollowUpAfterMs !== undefined
        ? { fetchedAt: event.fetchedAt, ...(event.refreshFailed ? { refreshFailed: event.refreshFailed } : {}) }
        : {};
    let transformed;
    try {
      transformed = await buildRequest(event, subscription, attempt);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      // The same event gives the same failure on every attempt: stop, with the reason in the attempt log.
      const error = `transformation failed: ${err.message}`;
      const record: AttemptRecord = {
        attempt,
        startedAt: new Date(now()).toISOString(),
        durationMs: 0,
        eventId: input.event.id,
        outcome: 'stop',
        failureType: FailureType.TransformFailed,
        error,
      };
      reported = await report({ attempt, error, record }, input);
      await gateDone(input, false); // a permit's slot is free again at once
      throw forWorkflow(
        reported,
        readableFailure({ type: FailureType.TransformFailed, message: error, nonRetryable: true }),
      );
    }
    const body = transformed.body;
    const signed = signRequest(
      subscription.url,
      event,
      subscription.signature,
      body,
      openCredentials(subscription, keyring),
      attempt,
      now(),
    );
    const timeout = subscription.timeoutMs;
    const startedAt = now();
    // Whether a retryable failure is tried again: not under the `none` policy (nor, unknown here, once the window ends).
    const retries = input.schedule.policy !== 'none';
    const base = {
      attempt,
      startedAt: new Date(startedAt).toISOString(),
      eventId: input.event.id,
      ...(signed.headers['webhook-id'] ? { webhookId: signed.headers['webhook-id'] } : {}),
    };

    let status: number;
    let retryAfter: number | undefined;
    let answer: Pick<AttemptRecord, 'headers' | 'body'>;
    try {
      const response = await request(signed.url, {
        method: 'POST',
        // A transformation's headers never replace hookflow's (the schema refuses those names too); the
        // attempt's span goes as W3C traceparent, so the receiver can continue the trace (none when tracing is off).
        headers: { ...transformed.headers, ...signed.headers, ...traceparentHeader() },
        body,
        dispatcher: agents.for(subscription),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      status = response.statusCode;
      retryAfter = parseRetryAfterMs(response.headers['retry-after'], now());
      // The head is kept for the attempt log; the rest is drained (bounded) so the connection is reused.
      const { head, bytes, complete } = await readHead(response.body, ATTEMPT_BODY_LIMIT, 64 * 1024);
      answer = {
        headers: keptHeaders(response.headers),
        ...(bytes > 0 ? { body: attemptBody(head, bytes, complete) } : {}),
      };
    } catch (err) {
      const durationMs = Math.max(0, now() - startedAt);
      // A refused address (network.allow) fails the delivery now: retrying for a day cannot change it.
      const refused = ssrfFailure(err);
      if (refused) {
        const record: AttemptRecord = {
          ...base,
          durationMs,
          outcome: 'stop',
          failureType: FailureType.SsrfRefused,
          error: refused.message,
        };
        reported = await report({ attempt, error: refused.message, record }, input);
        await gateDone(input, false);
        throw forWorkflow(reported, refused);
      }
      const error =
        (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
          ? `no response within ${timeout} ms (timeout)`
          : `connection failed (${networkErrorWords(err)})`;
      const record: AttemptRecord = {
        ...base,
        durationMs,
        outcome: retries ? 'retry' : 'stop',
        failureType: FailureType.ConnectionError,
        error,
      };
      reported = await report({ attempt, error, record }, input);
      await gateDone(input, false);
      throw forWorkflow(
        reported,
        readableFailure({ type: FailureType.ConnectionError, message: error, nextRetryDelay: backoff(undefined) }),
      );
    }
    const durationMs = Math.max(0, now() - startedAt);
    const answered = { ...base, durationMs, httpStatus: status, statusText: statusText(status), ...answer };

    // The log line has the status only: the receiver's answer stays in the (encrypted) attempt record.
    log.info('delivery attempt', { subscriptionId: subscription.id, eventId: input.event.id, attempt, status });
    await gateDone(input, status >= 200 && status < 300);
    if (status >= 200 && status < 300)
      return {
        status: 'delivered',
        httpStatus: status,
        attempt,
        ...snapshot,
        record: { ...answered, outcome: 'delivered' },
      };

    const type = httpFailureType(status);
    const error = `receiver answered HTTP ${status}${statusText(status) ? ` ${statusText(status)}` : ''}`;
    const retrying = status !== 410 && isRetryableStatus(status);
    const outcome = retrying && retries ? 'retry' : 'stop';
    reported = await report(
      {
        attempt,
        httpStatus: status,
        error,
        record: { ...answered, outcome, failureType: type },
      },
      input,
    );
    if (status === 410) {
      const disabled = client.workflow
        .getHandle(subscriptionWorkflowId(subscription.id))
        .executeUpdate(applySubscriptionUpdate, {
          args: [{ active: false, disabledReason: `receiver answered 410 Gone (event ${input.event.id})` }],
        });
      // A local attempt waits a bounded time for the update (it needs a workflow task of this worker, whose
      // slots local attempts may hold); the update goes on without it.
      if (isLocal)
        await Promise.race([
          disabled.catch((err: Error) => log.warn('could not disable the subscription', { error: err.message })),
          new Promise((resolve) => setTimeout(resolve, LOCAL_UPDATE_WAIT_MS)),
        ]);
      else await disabled;
      throw forWorkflow(
        reported,
        readableFailure({ type, message: `${error}: subscription disabled`, nonRetryable: true }),
      );
    }
    if (retrying)
      throw forWorkflow(reported, readableFailure({ type, message: error, nextRetryDelay: backoff(retryAfter) }));
    throw forWorkflow(reported, readableFailure({ type, message: error, nonRetryable: true }));
  };
}
