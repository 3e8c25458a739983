import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { TEST_EVENT_TYPE, type OutboundEvent } from '../shared/delivery';
import {
  SUBSCRIPTION_MEMO,
  applySubscriptionUpdate,
  deleteSubscriptionUpdate,
  getSubscriptionQuery,
  holdSignal,
  releaseSignal,
  testSignal,
  type Subscription,
  type SubscriptionPatch,
} from '../shared/subscription';
import { FailureType } from '../shared/failure-types';
import { promotionPatch, rotationSwitchAt } from '../shared/secret-rotation';
import { SA } from '../shared/search-attributes';
import { storedSubscriptionProblem, subscriptionSearchAttributes } from '../shared/subscription-limits';
import { startDelivery } from './handoff';
import { gateConfigOf } from '../shared/gate';

// Not a local activity: it may query this very workflow (before its memo is written), which cannot
// answer while a local activity holds its workflow task open.
const { planDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds' },
});

const DAY_MS = 24 * 60 * 60 * 1000;

// Tells the subscription's gate (src/workflows/gate.ts) about a changed hold or throttle: one signalWithStart.
const { configureGate } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumInterval: '10 seconds' },
});

/** The fields the gate works by, for change detection. */
const gateKey = (s: Subscription | null) =>
  s ? JSON.stringify([s.hold ?? null, s.rateLimit ?? null, s.maxInFlight ?? null]) : '[null,null,null]';

const REQUIRED: Array<keyof Subscription> = [
  'id',
  'name',
  'contactEmail',
  'url',
  'active',
  'triggers',
  'filter',
  'retryPolicy',
  'auth',
  'timeoutMs',
  'signature',
  'tls',
];

function applyPatch(current: Subscription | null, patch: SubscriptionPatch, now: string): Subscription {
  const next: Record<string, unknown> = { ...(current ?? { createdAt: now }) };
  for (const [field, value] of Object.entries(patch)) {
    if (field === 'id' && current && value !== current.id)
      throw ApplicationFailure.create({
        type: FailureType.InvalidSubscription,
        message: 'the id of a subscription cannot change',
        nonRetryable: true,
      });
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  if (patch.active === true) delete next.disabledReason;
  next.updatedAt = now;
  const missing = REQUIRED.filter((field) => next[field] === undefined);
  if (missing.length)
    throw ApplicationFailure.create({
      type: FailureType.InvalidSubscription,
      message: `a new subscription needs ${missing.join(', ')}`,
      nonRetryable: true,
    });
  // The API and the config file validate each field; this also covers updates sent by other clients
  // (`temporal workflow update`): what would not fit Temporal's limits is refused, the state stays as it was.
  const problem = storedSubscriptionProblem(next);
  if (problem)
    throw ApplicationFailure.create({ type: FailureType.InvalidSubscription, message: problem, nonRetryable: true });
  return next as unknown as Subscription;
}

/**
 * One long-running workflow per subscription, `subscription/<id>`: the subscription's durable state
 * (Temporal is hookflow's only store), changed through the `apply` and `delete` updates, read with the
 * `get` query, and the target of the `test` signal, which sends a test event through the normal
 * delivery path. Secrets in its state are sealed.
 */
export async function subscriptionWorkflow(input: {
  subscription: Subscription | null;
  pendingTests?: number;
}): Promise<void> {
  let subscription = input.subscription;
  let pendingTests = input.pendingTests ?? 0;
  let deleted = false;
  /** A change of hold, rateLimit or maxInFlight not yet told to the gate. */
  let gateChanged = false;

  // The current state, for readers (fan-out, deliveries, the API): written in the same workflow task
  // that completes an update, so it is current once the update is acknowledged.
  const writeMemo = () => {
    if (subscription) upsertMemo({ [SUBSCRIPTION_MEMO]: subscription });
  };
  const publish = () => {
    if (!subscription) return;
    writeMemo();
    upsertSearchAttributes(subscriptionSearchAttributes(subscription));
  };

  setHandler(getSubscriptionQuery, () => subscription);
  writeMemo(); // a new run (create, continue-as-new) writes its memo in its first workflow task
  setHandler(
    applySubscriptionUpdate,
    (patch) => {
      // The validator below has accepted the patch: applying it cannot throw (same code, same state).
      const before = gateKey(subscription);
      subscription = applyPatch(subscription, patch, new Date().toISOString());
      publish();
      if (gateKey(subscription) !== before) gateChanged = true;
      return subscription;
    },
    { validator: (patch) => void applyPatch(subscription, patch, new Date().toISOString()) },
  );
  setHandler(deleteSubscriptionUpdate, () => {
    deleted = true;
    if (gateKey(subscription) !== gateKey(null)) gateChanged = true;
  });
  setHandler(testSignal, () => {
    pendingTests += 1;
  });
  // Hold and release as signals, so the CLI can send them; they change the state like an apply.
  const applyGate = (patch: SubscriptionPatch) => {
    if (!subscription) return;
    try {
      subscription = applyPatch(subscription, patch, new Date().toISOString());
    } catch (err) {
      log.warn('hold/release refused', { error: (err as Error).message });
      return;
    }
    publish();
    gateChanged = true;
  };
  setHandler(holdSignal, (request) => {
    const by = request?.by === 'breaker' ? 'breaker' : 'operator';
    const held = subscription?.hold;
    // An operator's hold is not turned into the breaker's (which would release it on a good probe).
    if (held && (held.by === 'operator' || by === 'breaker')) {
      if (by === 'breaker' || (request?.reason === undefined && request?.budgetRuns === undefined)) return;
    }
    applyGate({
      hold: {
        ...held,
        since: held?.since ?? new Date().toISOString(),
        by,
        ...(request?.reason !== undefined ? { reason: String(request.reason) } : {}),
        ...(request?.budgetRuns !== undefined ? { budgetRuns: request.budgetRuns === true } : {}),
      },
    });
  });
  setHandler(releaseSignal, (request) => {
    const held = subscription?.hold;
    if (!held || (request?.by === 'breaker' && held.by !== 'breaker')) return;
    applyGate({ hold: null });
  });

  let refusedSwitchAt: number | undefined; // a promotion the state refused is not tried again in a loop
  const switchAtOf = () => {
    const at = subscription ? rotationSwitchAt(subscription) : undefined;
    return at === refusedSwitchAt ? undefined : at;
  };
  for (;;) {
    // A secret rotation's switch time is a durable timer: then the next secret becomes the secret (signing
    // already switched by the clock at send time; this makes the state say so). Without one, no timer.
    const switchAt = switchAtOf();
    const woken = () =>
      deleted ||
      gateChanged ||
      (pendingTests > 0 && subscription !== null) ||
      workflowInfo().continueAsNewSuggested ||
      switchAtOf() !== switchAt;
    if (switchAt === undefined) await condition(woken);
    // At most a month per timer: a far-off time (any the API accepts) is reached by waking and waiting again.
    else if (switchAt > Date.now()) await condition(woken, Math.min(switchAt - Date.now(), 30 * DAY_MS));
    if (!deleted && subscription && switchAt !== undefined && switchAtOf() === switchAt && Date.now() >= switchAt) {
      try {
        subscription = applyPatch(subscription, promotionPatch(subscription), new Date().toISOString());
        publish();
      } catch (err) {
        refusedSwitchAt = switchAt;
        log.warn('could not promote the next secret', { error: (err as Error).message });
      }
    }
    if (gateChanged && subscription) {
      gateChanged = false;
      // A deleted subscription's gate lets its waiting deliveries go (they end skipped).
      const config = gateConfigOf(subscription);
      await configureGate({
        subscriptionId: subscription.id,
        config: deleted ? { timeoutMs: config.timeoutMs, updatedAt: new Date().toISOString() } : config,
      });
    }
    if (deleted) {
      // Queries on the closed workflow then answer null: in-flight deliveries see it is gone.
      subscription = null;
      upsertSearchAttributes([{ key: SA.status, value: 'deleted' }]);
      return;
    }
    while (pendingTests > 0 && subscription) {
      pendingTests -= 1;
      // Through the normal delivery path: a delivery workflow, signed and retried like any other.
      const id = uuid4();
      const event: OutboundEvent = {
        id: `test/${id}`,
        uuid: id,
        type: TEST_EVENT_TYPE,
        occurredAt: new Date().toISOString(),
        data: { message: `Test webhook for subscription ${subscription.name}`, subscriptionId: subscription.id },
      };
      // The delivery as a child workflow, as the inbound workflow starts them: no activity starts workflows.
      const { planned } = await planDeliveries({ event, query: true, onlySubscriptionId: subscription.id });
      await Promise.all(planned.map((delivery) => startDelivery(delivery, event)));
    }
    if (workflowInfo().continueAsNewSuggested) {
      // Let in-flight updates finish so none is lost across the new run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof subscriptionWorkflow>({ subscription, pendingTests });
    }
  }
}
