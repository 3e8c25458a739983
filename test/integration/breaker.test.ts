import { subscriptionWorkflowId } from '../../src/shared/subscription';
import { releaseSubscription } from '../../src/temporal/hold';
import { FakeHttpPeer, type RecordedRequest } from '../support/fake-http';
import { Mailbox } from '../support/mailbox';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, deliverPublished, json, subscribe } from '../support/outbound';

/**
 * The breaker against a real dev server: a receiver that is down trips it (the subscription is held by
 * the breaker, `hookflow.subscription.held` is published and e-mailed once), and once the receiver is up
 * and the hold released, `hookflow.subscription.released` follows, once. Both show in the subscription
 * workflow's history as its `hold` and `release` signals.
 */

let receiver: FakeHttpPeer;
let mailbox: Mailbox;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  mailbox = await new Mailbox().start();
  h = await startHarness(
    testConfig(`
delivery: { oneDay: { initialInterval: PT0.3S, backoffCoefficient: 1, maximumInterval: PT0.5S, window: PT2M } }
alerts:
  healthCheckInterval: PT0.3S
  recoveredGrace: PT1M
  ${mailbox.emailConfig}
`),
  );
}, 60_000);

afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
  await mailbox?.stop();
});

const operational = (requests: RecordedRequest[]) =>
  requests
    .map((r) => json(r) as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type.startsWith('hookflow.'));

/**
 * Changes of the hold in the subscription workflow's history: its `hold` and `release` signals, or `apply`
 * updates (the subscription was created by its start, and no other update is accepted in this test).
 */
async function holdChangesOf(workflowId: string): Promise<string[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const signal = e.workflowExecutionSignaledEventAttributes?.signalName;
    if (signal === 'hold' || signal === 'release') return [signal];
    const update = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    return update === 'apply' ? [update] : [];
  });
}

test('a receiver that is down trips the breaker: held, announced once; up and released: released, once', async () => {
  const alerts = await subscribe(h, receiver, () => ({ status: 200 }), {
    name: 'Ops alerts',
    triggers: ['hookflow.*'],
    signature: 'x-signature',
    contactEmail: 'ops@example.test',
  });
  let down = true;
  const erp = await subscribe(h, receiver, () => ({ status: down ? 503 : 200 }), {
    name: 'ERP orders',
    signature: 'x-signature',
    contactEmail: 'erp-team@example.test',
    breaker: { enabled: true, consecutiveFailures: 3, failingForMs: 600_000 },
  });
  const stored = await adminApi(h, 'GET', `/api/subscriptions/${erp.id}`);
  expect(stored.json().breaker).toEqual({ enabled: true, consecutiveFailures: 3, failingForMs: 600_000 });
  const refused = await adminApi(h, 'PATCH', `/api/subscriptions/${erp.id}`, {
    breaker: { enabled: true, consecutiveFailures: 0, failingForMs: 600_000 },
  });
  expect(refused.statusCode).toBe(400);
  expect(refused.body).toContain('consecutiveFailures');

  const delivery = await deliverPublished(h, erp.id);
  const hold = await eventually(async () => {
    const res = await adminApi(h, 'GET', `/api/subscriptions/${erp.id}`);
    return res.json().hold as { by: string; since: string; reason?: string } | undefined;
  }, 'the breaker to hold the subscription');
  expect(hold).toMatchObject({ by: 'breaker', reason: '3 consecutive failed attempts' });

  const aboutErp = () => operational(alerts.requests()).filter((e) => e.data.subscriptionId === erp.id);
  const held = await eventually(
    async () => aboutErp().find((e) => e.type === 'hookflow.subscription.held'),
    'hookflow.subscription.held at the alert subscription',
  );
  expect(held.data).toMatchObject({
    subscriptionId: erp.id,
    name: 'ERP orders',
    by: 'breaker',
    reason: '3 consecutive failed attempts',
    state: 'held',
  });
  expect(Date.parse(held.data.since as string)).not.toBeNaN();
  const toErpTeam = () => mailbox.to('erp-team@example.test');
  await eventually(
    async () => toErpTeam().some((m) => m.subject === '[hookflow] ERP orders is held by the breaker'),
    'the held e-mail',
  );

  // The receiver is up again; the hold ends (the gate's probe, or here an operator's release).
  down = false;
  await releaseSubscription(h.client, erp.id, { by: 'operator' });
  await expect(delivery.result()).resolves.toMatchObject({ status: 'delivered' });
  const released = await eventually(
    async () => aboutErp().find((e) => e.type === 'hookflow.subscription.released'),
    'hookflow.subscription.released at the alert subscription',
  );
  expect(released.data).toMatchObject({ subscriptionId: erp.id, by: 'breaker', state: 'released' });
  await eventually(
    async () => aboutErp().some((e) => e.type === 'hookflow.subscription.recovered'),
    'the recovery event',
  );
  await eventually(
    async () => toErpTeam().some((m) => m.subject === '[hookflow] ERP orders is released'),
    'the released e-mail',
  );
  const after = (await adminApi(h, 'GET', `/api/subscriptions/${erp.id}`)).json();
  expect(after.hold).toBeUndefined();

  // One event and one e-mail per state change; the trip and the release are in the subscription's history.
  const types = aboutErp().map((e) => e.type);
  expect(types.filter((t) => t === 'hookflow.subscription.held')).toHaveLength(1);
  expect(types.filter((t) => t === 'hookflow.subscription.released')).toHaveLength(1);
  expect(toErpTeam().filter((m) => m.subject?.includes('held by the breaker'))).toHaveLength(1);
  expect(operational(erp.requests()).filter((e) => e.data.subscriptionId === erp.id)).toEqual([]);
  // One hold, then one release (the probe's or the operator's: a release of a released one changes nothing),
  // as signals or as `apply` updates.
  const changes = await holdChangesOf(subscriptionWorkflowId(erp.id));
  expect(changes).toHaveLength(2);
  expect(['hold', 'apply']).toContain(changes[0]);
  expect(['release', 'apply']).toContain(changes[1]);
});
