/**
 * The `subscription` label of per-subscription series, bounded: each process gives at most `cap`
 * subscription ids a series of their own (the first it sees), and every later one shares
 * `subscription="other"`. Anything that is not a subscription id (an event id, an entity, a URL) is
 * `other` too, so no caller input can mint series.
 */
export const SUBSCRIPTION_LABEL_CAP = 200;
export const OTHER_SUBSCRIPTIONS = 'other';

const SUBSCRIPTION_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class SubscriptionLabels {
  private readonly ids = new Set<string>();

  constructor(readonly cap = SUBSCRIPTION_LABEL_CAP) {}

  label(subscriptionId: unknown): string {
    if (typeof subscriptionId !== 'string' || !SUBSCRIPTION_ID.test(subscriptionId)) return OTHER_SUBSCRIPTIONS;
    if (this.ids.has(subscriptionId)) return subscriptionId;
    if (subscriptionId === OTHER_SUBSCRIPTIONS || this.ids.size >= this.cap) return OTHER_SUBSCRIPTIONS;
    this.ids.add(subscriptionId);
    return subscriptionId;
  }

  /** How many ids have a series of their own. */
  get size(): number {
    return this.ids.size;
  }
}
