import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { log } from '@temporalio/activity';
import type { HookflowConfig } from '../config/schema';
import { boundedWorkflowId } from '../shared/bounded';
import { coalesceKeyValues, coalesceTypeMatches } from '../shared/coalesce';
import { filterRejection } from '../shared/filter';
import type { LaneTiming } from '../shared/lane-timing';
import {
  deliveryWorkflowId,
  type DeliverySchedule,
  type OutboundEvent,
  type PlannedDelivery,
} from '../shared/delivery';
import { deliveryStartOptions } from '../shared/delivery-start';
import { isAboutSubscription } from '../shared/health';
import { triggersMatch, type Subscription } from '../shared/subscription';
import { filterMatches } from '../subscriptions/expression-pool';
import { ExpressionError } from '../subscriptions/expressions';
import { candidateQuery, listSubscriptionIds, readSubscription } from '../subscriptions/lookup';

export interface FanOutDeps {
  config: HookflowConfig;
  client: Client;
}

/** The retry schedule of a delivery: `custom` from the subscription's own retrySchedule, else `delivery.oneDay`. */
export function deliverySchedule(subscription: Subscription, config: HookflowConfig): DeliverySchedule {
  const custom = subscription.retryPolicy === 'custom' ? subscription.retrySchedule : undefined;
  if (custom) {
    return {
      policy: 'custom',
      timeoutMs: subscription.timeoutMs,
      initialIntervalMs: custom.initialIntervalMs,
      backoffCoefficient: custom.backoffCoefficient,
      maximumIntervalMs: custom.maximumIntervalMs,
      windowMs: custom.maximumDurationMs,
    };
  }
  const oneDay = config.delivery.oneDay;
  return {
    // custom without a schedule cannot be stored (the workflow's validator); were it, one-day applies
    policy: subscription.retryPolicy === 'custom' ? 'one-day' : subscription.retryPolicy,
    timeoutMs: subscription.timeoutMs,
    initialIntervalMs: oneDay.initialInterval,
    backoffCoefficient: oneDay.backoffCoefficient,
    maximumIntervalMs: oneDay.maximumInterval,
    windowMs: oneDay.window,
  };
}

export function laneTiming(config: HookflowConfig): LaneTiming {
  return {
    settleMs: config.delivery.ordering.settle,
    idleMs: config.delivery.ordering.idle,
    maxHoldMs: config.delivery.ordering.maxHold,
  };
}

/**
 * The coalescer of this event for this subscription, when the subscription coalesces its type and the
 * event has every key field: `coalesce/<subscriptionId>/<hash of the key's names and values>`.
 */
export function coalescePlan(
  subscription: Subscription,
  event: OutboundEvent,
): { workflowId: string; windowMs: number; key: Record<string, string> } | undefined {
  const settings = subscription.coalesce;
  // Defensive: state written by other clients (`temporal workflow update`) is not schema-checked; a malformed
  // setting delivers as usual rather than failing every event's planning.
  if (!settings || !Array.isArray(settings.types) || !Array.isArray(settings.key) || !(settings.windowMs > 0))
    return undefined;
  if (
    !coalesceTypeMatches(
      settings.types.filter((t) => typeof t === 'string'),
      event.type,
    )
  )
    return undefined;
  const key = coalesceKeyValues(event.data, settings.key);
  if (!key) return undefined;
  const hash = createHash('sha256')
    .update(JSON.stringify(settings.key.map((field) => [field, key[field]])))
    .digest('hex')
    .slice(0, 32);
  return { workflowId: boundedWorkflowId(`coalesce/${subscription.id}/${hash}`), windowMs: settings.windowMs, key };
}

/** The content filter's verdict on the event (on an expression thread: src/subscriptions/expression-pool.ts): true, false, or why it failed. */
export async function contentFilter(expression: string, event: OutboundEvent): Promise<boolean | string> {
  try {
    return await filterMatches(expression, event);
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    log.warn('content filter failed', { eventId: event.id, error: err.message });
    return err.message;
  }
}

/**
 * Which subscriptions get this event. Candidates come from visibility (triggers, active); each is then
 * checked against its workflow's current state (readSubscription: the memo written with each
 * acknowledged change), so a change made a moment ago (disable, new filter) is honoured. Candidates
 * are read concurrently.
 */
async function plan(
  { config, client }: FanOutDeps,
  event: OutboundEvent,
  options: { onlySubscriptionId?: string; candidates?: string[]; query: boolean; coalesce?: boolean },
): Promise<{ planned: PlannedDelivery[]; unread: string[] }> {
  const { onlySubscriptionId } = options;
  const ids = onlySubscriptionId
    ? [onlySubscriptionId]
    : (options.candidates ??
      (await listSubscriptionIds(client, candidateQuery(config.temporal.taskQueue, event.type))));
  const unread: string[] = [];
  const planned = await Promise.all(
    ids.map(async (id): Promise<PlannedDelivery | undefined> => {
      const subscription = options.query
        ? await readSubscription(client, id)
        : await readSubscription(client, id, { query: false });
      if (subscription === 'unread') {
        unread.push(id);
        return undefined;
      }
      if (!subscription) return undefined;
      if (
        !onlySubscriptionId &&
        (!subscription.active ||
          !triggersMatch(subscription.triggers, event.type) ||
          filterRejection(event, subscription.filter) ||
          isAboutSubscription(event, subscription.id))
      )
        return undefined;
      const delivery: PlannedDelivery = {
        subscriptionId: subscription.id,
        workflowId: deliveryWorkflowId(event.id, subscription.id),
        schedule: deliverySchedule(subscription, config),
      };
      if (!onlySubscriptionId && subscription.filterExpression) {
        const verdict = await contentFilter(subscription.filterExpression, event);
        if (verdict === false) return undefined;
        // A failing filter neither drops the event silently nor fails the planning (which would retry for
        // every subscription): its delivery is a record that only says why (status filtered-error).
        if (typeof verdict === 'string') return { ...delivery, filterError: verdict };
      }
      // Coalescing applies to the inbound workflow's path; the test signal (onlySubscriptionId) delivers directly.
      const coalesce = options.coalesce ? coalescePlan(subscription, event) : undefined;
      // A coalesced event goes to its coalescer, whose one delivery per window does not join a lane (docs/beyond-delivery.md).
      if (coalesce)
        return {
          ...delivery,
          workflowId: coalesce.workflowId,
          coalesce: { windowMs: coalesce.windowMs, key: coalesce.key, deliveryWorkflowId: delivery.workflowId },
        };
      // Ordered delivery goes through the entity's lane (an event without an entity has no lane).
      if (subscription.ordering === 'entity' && event.entity !== undefined) delivery.lane = laneTiming(config);
      return delivery;
    }),
  );
  const matched = planned.filter((p): p is PlannedDelivery => p !== undefined);
  log.info('fan-out', {
    eventType: event.type,
    candidates: ids.length,
    deliveries: matched.length,
    unread: unread.length,
  });
  return { planned: matched, unread };
}

/**
 * The inbound workflow's fan-out: decides the deliveries and, with `start`, starts the direct ones
 * itself (below); the workflow hands the rest (lanes, coalescers) on with workflow commands. Run as a
 * local activity with `query: false`: it never waits for a workflow task (a local activity holds its own
 * workflow task, and the worker's slot, open: waiting for a query that needs a slot deadlocked a
 * restarted worker with a backlog, test/faults/crash-recovery.test.ts). The subscriptions it could not
 * read from their memo come back as `unread`, for a regular activity (`query: true`, `candidates`) to read.
 */
export function createPlanDeliveriesActivity(deps: FanOutDeps) {
  return async function planDeliveries(input: {
    event: OutboundEvent;
    query: boolean;
    candidates?: string[];
    onlySubscriptionId?: string;
    start?: boolean;
  }): Promise<{ planned: PlannedDelivery[]; unread: string[]; started?: PlannedDelivery[] }> {
    const { planned, unread } = await plan(deps, input.event, {
      query: input.query,
      candidates: input.candidates,
      onlySubscriptionId: input.onlySubscriptionId,
      coalesce: !input.onlySubscriptionId,
    });
    if (!input.start) return { planned, unread };
    const direct = planned.filter((d) => !d.lane && !d.coalesce);
    await Promise.all(direct.map((delivery) => startDirectDelivery(deps, delivery, input.event)));
    return { planned: planned.filter((d) => d.lane || d.coalesce), unread, started: direct };
  };
}

/**
 * A delivery that needs no lane or coalescer, started with the client rather than as the inbound
 * workflow's child: the inbound workflow then ends in the workflow task that planned it, without a
 * second task to learn that its children started (docs/performance.md, "Direct deliveries started by the
 * planning activity"). The same options as a child start; an id that exists is the same delivery (this
 * activity retried, the inbound workflow reset), so it is never started twice.
 */
async function startDirectDelivery({ client, config }: FanOutDeps, delivery: PlannedDelivery, event: OutboundEvent) {
  try {
    await client.workflow.start('deliveryWorkflow', {
      taskQueue: config.temporal.taskQueue,
      ...deliveryStartOptions(delivery, event),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
