import { log } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import nodemailer from 'nodemailer';
import type { HookflowConfig } from '../config/schema';
import type { InboundWorkflowInput } from '../shared/inbound';
import { OperationalEvent, type FailedDelivery, type HealthTransition } from '../shared/health';
import type { Subscription } from '../shared/subscription';
import { eventUuid } from '../sources/event-uuid';
import { readSubscription } from '../subscriptions/lookup';
import { startInbound } from '../temporal/start-inbound';

/** Operational events come from this source (`hookflow/<key>` event ids); `hookflow.*` types are reserved for them. */
const OPERATIONAL_SOURCE = 'hookflow';

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
};

/** What an operator reads about a state change: never a body, never a credential, the URL's host only. */
export function transitionData(transition: HealthTransition, subscription: Subscription | null) {
  return {
    subscriptionId: transition.subscriptionId,
    name: subscription?.name ?? transition.subscriptionId,
    state: transition.state,
    since: transition.since,
    consecutiveFailures: transition.consecutiveFailures,
    ...(transition.reason ? { reason: transition.reason } : {}),
    ...(transition.by ? { by: transition.by } : {}),
    ...(transition.lastFailure
      ? { lastFailure: { status: transition.lastFailure.httpStatus ?? null, error: transition.lastFailure.error } }
      : {}),
    ...(subscription && hostOf(subscription.url) ? { host: hostOf(subscription.url) } : {}),
  };
}

/**
 * Publishes an operational event through hookflow's own subscriptions, the way `POST /api/events` does
 * (an inbound workflow per event). The key makes a retried activity publish once.
 */
async function publish(
  client: Client,
  config: HookflowConfig,
  type: string,
  key: string,
  data: Record<string, unknown>,
): Promise<void> {
  const input: InboundWorkflowInput = {
    event: {
      sourceId: OPERATIONAL_SOURCE,
      sourceKind: 'api',
      eventKey: key,
      uuid: eventUuid(`${OPERATIONAL_SOURCE}/${key}`),
      eventType: type,
      recognised: true,
      receivedAt: new Date().toISOString(),
      payload: data,
    },
    filter: {},
    followUp: { kind: 'none' },
  };
  const started = await startInbound(client, config, input);
  log.info('operational event published', { type, key, duplicate: started.duplicate });
}

function subjectOf(name: string, transition: HealthTransition): string {
  if (transition.state === 'healthy') return `[hookflow] ${name} recovered`;
  if (transition.state === 'disabled') return `[hookflow] ${name} was disabled`;
  if (transition.state === 'held') return `[hookflow] ${name} is held by the breaker`;
  if (transition.state === 'released') return `[hookflow] ${name} is released`;
  const status = transition.lastFailure?.httpStatus;
  return `[hookflow] ${name} is failing${status !== undefined ? ` (HTTP ${status})` : ''}`;
}

function textOf(name: string, subscription: Subscription | null, transition: HealthTransition): string {
  const lines =
    transition.state === 'held'
      ? [
          `hookflow holds the deliveries to subscription "${name}" since ${transition.since}: ${transition.reason ?? 'failing'}.`,
          'One probe delivery at growing intervals tries the receiver; the first success releases the rest.',
          'An operator can release it in the console (Release) or with POST /api/subscriptions/:id/release.',
        ]
      : transition.state === 'released'
        ? [`The deliveries to subscription "${name}" held by the breaker go again since ${transition.since}.`]
        : transition.state === 'healthy'
          ? [`Deliveries to subscription "${name}" succeed again since ${transition.since}.`]
          : transition.state === 'disabled'
            ? [
                `Subscription "${name}" is disabled${transition.reason ? `: ${transition.reason}` : ''}.`,
                'Its deliveries are skipped until it is enabled again.',
              ]
            : [
                `Deliveries to subscription "${name}" are failing since ${transition.since}.`,
                `Failed attempts so far: ${transition.consecutiveFailures}.`,
                `Last failure: ${transition.lastFailure?.error ?? 'unknown'}.`,
                "hookflow keeps retrying by the subscription's retry policy.",
              ];
  const host = subscription ? hostOf(subscription.url) : undefined;
  return [
    ...lines,
    '',
    `Subscription: ${transition.subscriptionId}${host ? ` (receiver ${host})` : ''}`,
    "You get this message because this address is the subscription's contact.",
  ].join('\n');
}

export function createAlertActivities({ client, config }: { client: Client; config: HookflowConfig }) {
  const email = config.alerts.email;
  const transport = email
    ? nodemailer.createTransport({
        host: email.host,
        port: email.port,
        secure: email.secure,
        ...(email.auth ? { auth: { user: email.auth.user, pass: email.auth.pass } } : {}),
      })
    : undefined;

  return {
    /** `hookflow.subscription.failing` / `.recovered` / `.disabled`, once per state change. */
    async publishHealthEvent(transition: HealthTransition): Promise<void> {
      const subscription = await readSubscription(client, transition.subscriptionId);
      const type = {
        failing: OperationalEvent.failing,
        healthy: OperationalEvent.recovered,
        disabled: OperationalEvent.disabled,
        held: OperationalEvent.held,
        released: OperationalEvent.released,
      }[transition.state];
      const key = `health/${transition.subscriptionId}/${transition.state}/${Date.parse(transition.since)}`;
      await publish(client, config, type, key, transitionData(transition, subscription));
    },

    /** E-mail to the subscription's contact address (off without `alerts.email`). */
    async emailHealthAlert(transition: HealthTransition): Promise<void> {
      if (!transport || !email) return;
      const subscription = await readSubscription(client, transition.subscriptionId);
      if (!subscription?.contactEmail) return;
      const name = subscription.name;
      await transport.sendMail({
        from: email.from,
        to: subscription.contactEmail,
        subject: subjectOf(name, transition),
        text: textOf(name, subscription, transition),
        // The same id on a retried send: a receiving system may drop the duplicate.
        messageId: `<health.${transition.subscriptionId}.${transition.state}.${Date.parse(transition.since)}@hookflow>`,
      });
      log.info('health alert e-mailed', { subscriptionId: transition.subscriptionId, state: transition.state });
    },

    /** `hookflow.delivery.failed`: one event per delivery that exhausted its policy, and one summary past the cap. */
    async publishFailedDeliveries(input: {
      subscriptionId: string;
      failed: FailedDelivery[];
      moreFailed: number;
    }): Promise<void> {
      const subscription = await readSubscription(client, input.subscriptionId);
      const common = {
        subscriptionId: input.subscriptionId,
        name: subscription?.name ?? input.subscriptionId,
        ...(subscription && hostOf(subscription.url) ? { host: hostOf(subscription.url) } : {}),
      };
      for (const delivery of input.failed)
        await publish(client, config, OperationalEvent.deliveryFailed, `delivery-failed/${delivery.deliveryId}`, {
          ...common,
          ...delivery,
        });
      if (input.moreFailed > 0) {
        const last = input.failed[input.failed.length - 1];
        await publish(
          client,
          config,
          OperationalEvent.deliveryFailed,
          `delivery-failed/${input.subscriptionId}/more/${last?.deliveryId ?? Date.now()}`,
          { ...common, summary: true, moreFailed: input.moreFailed },
        );
      }
    },
  };
}
