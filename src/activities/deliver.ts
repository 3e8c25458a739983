import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { buildBody } from '../delivery/envelope';
import { signRequest, type OpenedCredentials } from '../delivery/sign-request';
import type { Keyring } from '../security/keyring';
import { unseal } from '../security/sealed';
import { openSecrets } from '../subscriptions/seal';
import {
  TEST_EVENT_TYPE,
  attemptFailedSignal,
  type AttemptReport,
  type DeliveryAttemptResult,
  type DeliveryInput,
  type OutboundEvent,
} from '../shared/delivery';
import { applySubscriptionUpdate, subscriptionWorkflowId, type Subscription } from '../shared/subscription';
import type { FollowUpResult } from '../shared/inbound';
import { attemptClockMs } from './follow-up';
import { FailureType, httpFailureType } from '../shared/failure-types';
import { isRetryableStatus, parseRetryAfterMs, readLimited, ssrfFailure } from './http';
import { readSubscription } from '../subscriptions/lookup';
import type { TlsAgents } from './tls-agents';

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

  const report = async (report: AttemptReport, input: DeliveryInput) => {
    await reportHealth?.(input, report); // health/<subscriptionId>
    const workflowId = Context.current().info.workflowExecution?.workflowId;
    if (!workflowId) return;
    // Best effort: live attempt/status search attributes; the retry itself does not depend on it.
    await client.workflow
      .getHandle(workflowId)
      .signal(attemptFailedSignal, report)
      .catch((err: Error) => log.warn('could not report attempt', { error: err.message }));
  };

  return async function deliver(input: DeliveryInput): Promise<DeliveryAttemptResult> {
    const attempt = Context.current().info.attempt;
    const subscription = await readSubscription(client, input.subscriptionId);
    if (!subscription) return { status: 'skipped', attempt, reason: 'subscription no longer exists' };
    if (!subscription.active && input.event.type !== TEST_EVENT_TYPE) {
      return {
        status: 'skipped',
        attempt,
        reason: `subscription is disabled${subscription.disabledReason ? `: ${subscription.disabledReason}` : ''}`,
      };
    }

    const event = await withFreshFollowUp(input.event, subscription);
    const snapshot =
      event.fetchedAt && subscription.refreshFollowUpAfterMs !== undefined
        ? { fetchedAt: event.fetchedAt, ...(event.refreshFailed ? { refreshFailed: event.refreshFailed } : {}) }
        : {};
    const body = buildBody(event, subscription.signature, attempt);
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

    let status: number;
    let retryAfter: number | undefined;
    try {
      const response = await request(signed.url, {
        method: 'POST',
        headers: signed.headers,
        body,
        dispatcher: agents.for(subscription),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      status = response.statusCode;
      retryAfter = parseRetryAfterMs(response.headers['retry-after'], now());
      await readLimited(response.body, 64 * 1024); // drain (bounded) so the connection is reused
    } catch (err) {
      // A refused address (network.allow) fails the delivery now: retrying for a day cannot change it.
      const refused = ssrfFailure(err);
      if (refused) {
        await report({ attempt, error: refused.message }, input);
        throw refused;
      }
      const error =
        (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
          ? `no response within ${timeout} ms`
          : `connection failed: ${(err as Error).message}`;
      await report({ attempt, error }, input);
      throw ApplicationFailure.create({ type: FailureType.ConnectionError, message: error });
    }

    log.info('delivery attempt', { subscriptionId: subscription.id, eventId: input.event.id, attempt, status });
    if (status >= 200 && status < 300) return { status: 'delivered', httpStatus: status, attempt, ...snapshot };

    const error = `receiver answered HTTP ${status}`;
    await report({ attempt, httpStatus: status, error }, input);
    if (status === 410) {
      await client.workflow.getHandle(subscriptionWorkflowId(subscription.id)).executeUpdate(applySubscriptionUpdate, {
        args: [{ active: false, disabledReason: `receiver answered 410 Gone (event ${input.event.id})` }],
      });
      throw ApplicationFailure.create({
        type: httpFailureType(410),
        message: `${error}: subscription disabled`,
        nonRetryable: true,
      });
    }
    if (isRetryableStatus(status)) {
      throw ApplicationFailure.create({ type: httpFailureType(status), message: error, nextRetryDelay: retryAfter });
    }
    throw ApplicationFailure.create({ type: httpFailureType(status), message: error, nonRetryable: true });
  };
}
