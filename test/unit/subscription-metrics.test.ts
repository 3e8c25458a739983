import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Registry } from 'prom-client';
import { failureOutcome, successOutcome } from '../../src/observability/delivery-outcome';
import { subscriptionMetrics } from '../../src/observability/metrics';
import { OTHER_SUBSCRIPTIONS, SubscriptionLabels } from '../../src/observability/subscription-label';
import type { DeliveryInput } from '../../src/shared/delivery';

describe('subscription label', () => {
  test('the first `cap` ids keep their own label; later ones, and anything not an id, are "other"', () => {
    const labels = new SubscriptionLabels(3);
    expect(['a', 'b', 'a', 'c'].map((id) => labels.label(id))).toEqual(['a', 'b', 'a', 'c']);
    expect(labels.label('d')).toBe(OTHER_SUBSCRIPTIONS);
    expect(labels.label('a')).toBe('a');
    for (const notAnId of ['delivery/evt-1/a', 'https://x.example/hook', 'ORDER-1', '', undefined, 42])
      expect(new SubscriptionLabels().label(notAnId)).toBe(OTHER_SUBSCRIPTIONS);
    expect(labels.size).toBe(3);
  });

  test('10,000 event ids and 1,000 subscription ids make at most cap + 1 series per outcome', async () => {
    const registry = new Registry();
    const m = subscriptionMetrics(registry);
    for (let i = 0; i < 10_000; i++) {
      m.deliveries.inc({ subscription: m.labels.label(`evt-${i}/order-${i}`), outcome: 'delivered' });
      m.deliveries.inc({ subscription: m.labels.label(`sub-${i % 1000}`), outcome: 'failed' });
    }
    const values = (await registry.getSingleMetric('hookflow_subscription_deliveries_total')!.get()).values;
    const failed = values.filter((v) => v.labels.outcome === 'failed');
    expect(failed).toHaveLength(m.labels.cap + 1);
    expect(failed.find((v) => v.labels.subscription === OTHER_SUBSCRIPTIONS)!.value).toBe(10_000 - 10 * m.labels.cap);
    // Delivery-shaped keys (event id / entity) never fit a subscription id: one "other" series for all.
    expect(values.filter((v) => v.labels.outcome === 'delivered')).toHaveLength(1);
  });
});

describe('deliver outcome', () => {
  const input = {
    subscriptionId: 's',
    schedule: {
      policy: 'one-day',
      timeoutMs: 1000,
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 60_000,
      windowMs: 86_400_000,
    },
  } as unknown as DeliveryInput;
  const timing = { attempt: 1, scheduledTimestampMs: 0, scheduleToCloseTimeoutMs: 86_400_000, now: 1000 };
  const failure = (type: string, nonRetryable = false) =>
    ApplicationFailure.create({ type, message: type, nonRetryable });

  test('attempt classes and endings', () => {
    expect(successOutcome({ status: 'delivered', httpStatus: 204 })).toEqual({
      attemptClass: '2xx',
      ended: 'delivered',
    });
    expect(successOutcome({ status: 'skipped' })).toEqual({ ended: 'skipped' });
    expect(failureOutcome(failure('Http503'), input, timing)).toEqual({ attemptClass: '5xx', ended: undefined });
    expect(failureOutcome(failure('Http404', true), input, timing)).toEqual({ attemptClass: '4xx', ended: 'failed' });
    expect(failureOutcome(failure('ConnectionError'), input, timing).attemptClass).toBe('network');
    expect(failureOutcome(failure('NoEncryptionKeys', true), input, timing)).toEqual({
      attemptClass: undefined,
      ended: 'failed',
    });
    expect(failureOutcome(new CancelledFailure('cancelled'), input, timing)).toEqual({ ended: 'skipped' });
  });

  test('a retryable failure ends the delivery under policy none, or when the next retry falls past the window', () => {
    const none = { ...input, schedule: { ...input.schedule, policy: 'none' } } as DeliveryInput;
    expect(failureOutcome(failure('Http503'), none, timing).ended).toBe('failed');
    const late = { ...timing, attempt: 30, now: 86_400_000 - 30_000 };
    expect(failureOutcome(failure('Http503'), input, late).ended).toBe('failed');
    expect(failureOutcome(failure('Http503'), input, { ...late, now: 1000 }).ended).toBeUndefined();
  });
});
