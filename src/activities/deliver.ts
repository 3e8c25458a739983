import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { buildBody } from '../outbound/envelope';
import { signRequest, type OpenedCredentials } from '../outbound/sign-request';
import type { Keyring } from '../security/keyring';
import { unseal } from '../security/sealed';
import { openSecrets } from '../subscriptions/seal';
import {
  TEST_EVENT_TYPE,
  applySubscriptionUpdate,
  attemptFailedSignal,
  subscriptionWorkflowId,
  type AttemptReport,
  type DeliveryAttemptResult,
  type DeliveryInput,
  type Subscription,
} from '../shared/outbound';
import { isRetryableStatus, parseRetryAfterMs, readLimited, ssrfFailure } from './http';
import { readSubscription } from './subscriptions-lookup';
import type { TlsAgents } from './tls-agents';

export interface DeliverDeps {
  client: Client;
  keyring?: Keyring;
  agents: TlsAgents;
  now?: () => number;
}

function openCredentials(subscription: Subscription, keyring: Keyring | undefined): OpenedCredentials {
  return openSecrets(subscription, (sealed) => {
    if (!keyring) throw ApplicationFailure.create({ type: 'NoEncryptionKeys', message: 'security.encryptionKeys is not configured', nonRetryable: true });
    return unseal(keyring, sealed);
  });
}

/**
 * One delivery attempt: read the subscription's current settings, build and sign the body for this
 * attempt, POST it. 2xx = delivered; 3xx, 5xx, 408, 429, timeouts and connection errors = retry
 * (honouring Retry-After); 410 = stop and disable the subscription; other 4xx = stop.
 */
export function createDeliverActivity({ client, keyring, agents, now = Date.now }: DeliverDeps) {
  const report = async (report: AttemptReport) => {
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
      return { status: 'skipped', attempt, reason: `subscription is disabled${subscription.disabledReason ? `: ${subscription.disabledReason}` : ''}` };
    }

    const body = buildBody(input.event, subscription.signature, attempt);
    const signed = signRequest(subscription.url, input.event, subscription.signature, body, openCredentials(subscription, keyring), attempt, now());
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
        await report({ attempt, error: refused.message });
        throw refused;
      }
      const error = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError' ? `no response within ${timeout} ms` : `connection failed: ${(err as Error).message}`;
      await report({ attempt, error });
      throw ApplicationFailure.create({ type: 'ConnectionError', message: error });
    }

    log.info('delivery attempt', { subscriptionId: subscription.id, eventId: input.event.id, attempt, status });
    if (status >= 200 && status < 300) return { status: 'delivered', httpStatus: status, attempt };

    const error = `receiver answered HTTP ${status}`;
    await report({ attempt, httpStatus: status, error });
    if (status === 410) {
      await client.workflow
        .getHandle(subscriptionWorkflowId(subscription.id))
        .executeUpdate(applySubscriptionUpdate, { args: [{ active: false, disabledReason: `receiver answered 410 Gone (event ${input.event.id})` }] });
      throw ApplicationFailure.create({ type: 'Http410', message: `${error}: subscription disabled`, nonRetryable: true });
    }
    if (isRetryableStatus(status)) {
      throw ApplicationFailure.create({ type: `Http${status}`, message: error, nextRetryDelay: retryAfter });
    }
    throw ApplicationFailure.create({ type: `Http${status}`, message: error, nonRetryable: true });
  };
}
