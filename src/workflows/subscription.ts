import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
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
  testSignal,
  type Subscription,
  type SubscriptionHold,
  type SubscriptionPatch,
} from '../shared/subscription';
import { FailureType } from '../shared/failure-types';
import { SA } from '../shared/search-attributes';
import { storedSubscriptionProblem, subscriptionSearchAttributes } from '../shared/subscription-limits';
import { startDelivery } from './handoff';

// Not a local activity: it may query this very workflow (before its memo is written), which cannot
// answer while a local activity holds its workflow task open.
const { planDeliveries } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '30 seconds' },
});

// Hold and release (src/temporal/hold.ts): the hold is part of the state, a hold while held changes nothing.
const holdSignal = defineSignal<[SubscriptionHold]>('hold');
const releaseSignal = defineSignal<[{ by: SubscriptionHold['by'] }]>('release');

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
      subscription = applyPatch(subscription, patch, new Date().toISOString());
      publish();
      return subscription;
    },
    { validator: (patch) => void applyPatch(subscription, patch, new Date().toISOString()) },
  );
  setHandler(deleteSubscriptionUpdate, () => {
    deleted = true;
  });
  setHandler(holdSignal, (hold) => {
    if (!subscription || subscription.hold) return;
    subscription = { ...subscription, hold };
    writeMemo();
  });
  setHandler(releaseSignal, () => {
    if (!subscription?.hold) return;
    subscription = { ...subscription };
    delete subscription.hold;
    writeMemo();
  });
  setHandler(testSignal, () => {
    pendingTests += 1;
  });

  for (;;) {
    await condition(
      () => deleted || (pendingTests > 0 && subscription !== null) || workflowInfo().continueAsNewSuggested,
    );
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
