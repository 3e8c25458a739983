import { healthWorkflowId } from '../../src/shared/health';
import { FakeHttpPeer, type RecordedRequest } from '../support/fake-http';
import { Mailbox } from '../support/mailbox';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, deliverPublished, json, publish, subscribe } from '../support/outbound';

/**
 * Health and alerts against a real dev server, a real SMTP server on loopback and receivers that fail a
 * known number of times: the state, the figures, one operational event and one e-mail per state change,
 * and no alerts about alerts.
 */

let receiver: FakeHttpPeer;
let mailbox: Mailbox;
let h: Harness;

beforeAll(async () => {
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  mailbox = await new Mailbox().start();
  h = await startHarness(
    testConfig(`
delivery: { oneDay: { initialInterval: PT0.3S, backoffCoefficient: 1, maximumInterval: PT1S, window: PT2M } }
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

const health = async (id: string) => {
  const res = await adminApi(h, 'GET', `/api/subscriptions/${id}/health`);
  expect(res.statusCode).toBe(200);
  return res.json();
};
const to = (address: string) => mailbox.to(address);
const operational = (requests: RecordedRequest[]) =>
  requests
    .map((r) => json(r) as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type.startsWith('hookflow.'));

async function consoleList(): Promise<string> {
  const cookies = new Map<string, string>();
  const keep = (setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const login = await h.app.inject({ url: '/console/login' });
  keep(login.headers['set-cookie']);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const signedIn = await h.app.inject({
    method: 'POST',
    url: '/console/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    payload: new URLSearchParams({ token: ADMIN_TOKEN, _csrf: csrf }).toString(),
  });
  keep(signedIn.headers['set-cookie']);
  const page = await h.app.inject({ url: '/console', headers: { cookie: cookie() } });
  expect(page.statusCode).toBe(200);
  return page.body;
}

test('a receiver answers 503 three times: failing, then recovered; one event and one e-mail per change', async () => {
  // Alerts arrive here (healthy), and at an alert receiver that is down (503, no retries).
  const alerts = await subscribe(h, receiver, () => ({ status: 200 }), {
    name: 'Ops alerts',
    triggers: ['hookflow.*'],
    signature: 'x-signature',
    contactEmail: 'ops@example.test',
  });
  const brokenAlerts = await subscribe(h, receiver, () => ({ status: 503 }), {
    name: 'Broken alerts',
    triggers: ['hookflow.*'],
    signature: 'x-signature',
    retryPolicy: 'none',
    contactEmail: 'broken-alerts@example.test',
  });
  // The ERP answers 503 three times; the fourth attempt waits until the test has read the figures.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let shopRequests = 0;
  const erp = await subscribe(
    h,
    receiver,
    async (request) => {
      if ((json(request) as { type: string }).type.startsWith('hookflow.')) return { status: 200 };
      if (++shopRequests <= 3) return { status: 503 };
      await gate;
      return { status: 200 };
    },
    {
      name: 'ERP orders',
      // It also takes operational events: never the ones about itself.
      triggers: ['shop.*', 'hookflow.*'],
      signature: 'x-signature',
      contactEmail: 'erp-team@example.test',
    },
  );
  expect((await health(erp.id)).state).toBe('healthy');

  const delivery = await deliverPublished(h, erp.id);
  const first = await eventually(async () => {
    const figures = await health(erp.id);
    return figures.state === 'failing' && figures;
  }, 'the subscription to turn failing');
  expect(first).toMatchObject({
    lastFailure: { httpStatus: 503, error: 'receiver answered HTTP 503 Service Unavailable' },
  });
  expect(first.since).toBe(first.since && new Date(first.since).toISOString());

  await eventually(async () => shopRequests === 4, 'the fourth attempt');
  const failing = await eventually(async () => {
    const figures = await health(erp.id);
    return figures.consecutiveFailures === 3 && figures.inBackoff === 1 && figures;
  }, 'three consecutive failures and one delivery in backoff');
  expect(failing).toMatchObject({
    subscriptionId: erp.id,
    state: 'failing',
    since: first.since,
    lastFailure: { httpStatus: 503 },
    lastSuccess: null,
  });
  expect(await consoleList()).toMatch(/failing since <time[^>]*>[^<]*<\/time> \(3 failures, last 503\)/);

  release();
  await expect(delivery.result()).resolves.toMatchObject({ status: 'delivered', attempt: 4 });
  const recovered = await eventually(async () => {
    const figures = await health(erp.id);
    return figures.state === 'healthy' && figures.lastSuccess !== null && figures.inBackoff === 0 && figures;
  }, 'the subscription to recover');
  expect(recovered).toMatchObject({ consecutiveFailures: 0, inBackoff: 0 });
  expect(recovered.successRate.lastHour).toMatchObject({ delivered: 1, failed: 0, rate: 1 });
  expect(recovered.successRate.lastDay).toMatchObject({ delivered: 1, failed: 0, rate: 1 });

  // The alert subscription: exactly one failing and one recovered about the ERP.
  const aboutErp = () => operational(alerts.requests()).filter((e) => e.data.subscriptionId === erp.id);
  await eventually(async () => aboutErp().length >= 2, 'both operational events at the alert subscription');
  expect(aboutErp().map((e) => e.type)).toEqual(['hookflow.subscription.failing', 'hookflow.subscription.recovered']);
  expect(aboutErp()[0]!.data).toMatchObject({
    name: 'ERP orders',
    state: 'failing',
    since: first.since,
    consecutiveFailures: 1,
    lastFailure: { status: 503, error: 'receiver answered HTTP 503 Service Unavailable' },
    host: new URL(receiver.url).host,
  });
  expect(JSON.stringify(aboutErp()[0]!.data)).not.toContain('/hook/');

  // E-mail: exactly two to the ERP's contact, naming it and the state.
  await eventually(async () => to('erp-team@example.test').length >= 2, 'two e-mails to the contact');
  expect(to('erp-team@example.test').map((m) => m.subject)).toEqual([
    '[hookflow] ERP orders is failing (HTTP 503)',
    '[hookflow] ERP orders recovered',
  ]);

  // The broken alert subscription is failing too (it got the ERP's events): its contact hears of it once,
  // and no operational event about it is published (nor delivered to the ERP, nor to itself).
  await eventually(async () => to('broken-alerts@example.test').length >= 1, 'the e-mail about the broken alerts');
  expect(to('broken-alerts@example.test').map((m) => m.subject)).toEqual([
    '[hookflow] Broken alerts is failing (HTTP 503)',
  ]);
  expect((await health(brokenAlerts.id)).state).toBe('failing');
  const published: string[] = [];
  for await (const w of h.client.workflow.list({
    query: `WorkflowType = 'inboundWorkflow' AND HookflowSource = 'hookflow' AND TaskQueue = '${h.config.temporal.taskQueue}'`,
  }))
    published.push(w.workflowId);
  expect(published.filter((id) => id.includes(brokenAlerts.id))).toEqual([]);
  expect(published.filter((id) => id.includes(erp.id))).toHaveLength(2);
  // The ERP never received an operational event about itself.
  expect(operational(erp.requests()).filter((e) => e.data.subscriptionId === erp.id)).toEqual([]);
  expect(to('erp-team@example.test')).toHaveLength(2);
  expect(operational(alerts.requests()).filter((e) => e.data.subscriptionId === erp.id)).toHaveLength(2);
}, 120_000);

test('a delivery that exhausts its policy is announced once as hookflow.delivery.failed', async () => {
  const alerts = await subscribe(h, receiver, () => ({ status: 200 }), {
    triggers: ['hookflow.delivery.failed'],
    signature: 'x-signature',
  });
  const down = await subscribe(h, receiver, () => ({ status: 500 }), {
    name: 'Down for good',
    retryPolicy: 'none',
    signature: 'x-signature',
  });
  const delivery = await deliverPublished(h, down.id);
  await expect(delivery.result()).rejects.toThrow();
  const announced = () =>
    operational(alerts.requests()).filter(
      (e) => e.type === 'hookflow.delivery.failed' && e.data.subscriptionId === down.id,
    );
  await eventually(async () => announced().length >= 1, 'hookflow.delivery.failed');
  expect(announced()[0]!.data).toMatchObject({
    deliveryId: delivery.workflowId,
    eventType: 'shop.OrderPaid',
    httpStatus: 500,
  });
  // The counted figures are at most a few seconds old (figuresAt): wait for a count after the failure.
  const figures = await eventually(async () => {
    const f = await health(down.id);
    return f.successRate.lastHour.failed === 1 && f;
  }, 'the failed delivery counted');
  expect(figures).toMatchObject({ state: 'failing', lastFailure: { httpStatus: 500 } });
  expect(figures.successRate.lastHour).toMatchObject({ delivered: 0, failed: 1, rate: 0 });
  // Later checks look back over the same window: still one event.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(announced()).toHaveLength(1);
}, 60_000);

test('a disabled subscription reads as disabled; an unknown one is 404', async () => {
  const sub = await subscribe(h, receiver, () => ({ status: 200 }), { signature: 'x-signature' });
  await adminApi(h, 'POST', `/api/subscriptions/${sub.id}/disable`);
  expect(await health(sub.id)).toMatchObject({ state: 'disabled', consecutiveFailures: 0, lastFailure: null });
  expect((await adminApi(h, 'GET', '/api/subscriptions/no-such-sub/health')).statusCode).toBe(404);
});

test('the health workflow of a deleted subscription ends', async () => {
  const sub = await subscribe(h, receiver, () => ({ status: 500 }), { retryPolicy: 'none', signature: 'x-signature' });
  await expect((await deliverPublished(h, sub.id)).result()).rejects.toThrow();
  await eventually(async () => (await health(sub.id)).state === 'failing', 'failing');
  expect((await adminApi(h, 'DELETE', `/api/subscriptions/${sub.id}`)).statusCode).toBeLessThan(300);
  await expect(h.client.workflow.getHandle(healthWorkflowId(sub.id)).result()).resolves.toBeUndefined();
});

test('an outage first seen on operational events is announced once real traffic fails too, without a second e-mail', async () => {
  const down = await subscribe(h, receiver, () => ({ status: 503 }), { retryPolicy: 'none', signature: 'x-signature' });
  const mixed = await subscribe(h, receiver, () => ({ status: 503 }), {
    triggers: ['hookflow.subscription.failing', 'other.*'],
    retryPolicy: 'none',
    signature: 'x-signature',
    contactEmail: 'mixed@example.test',
  });
  await expect((await deliverPublished(h, down.id)).result()).rejects.toThrow();
  // `down`'s failing event reaches `mixed`, which fails it: e-mail only.
  await eventually(async () => to('mixed@example.test').length >= 1, 'the e-mail about mixed');
  const publishedAbout = async (id: string) => {
    const ids: string[] = [];
    for await (const w of h.client.workflow.list({
      query: `WorkflowType = 'inboundWorkflow' AND HookflowSource = 'hookflow' AND TaskQueue = '${h.config.temporal.taskQueue}'`,
    }))
      if (w.workflowId.includes(`/${id}/`)) ids.push(w.workflowId);
    return ids;
  };
  expect(await publishedAbout(mixed.id)).toEqual([]);
  const { workflowId } = await publish(h, { type: 'other.Thing', data: { n: 1 } });
  await h.client.workflow.getHandle(workflowId).result();
  const announced = await eventually(async () => {
    const ids = await publishedAbout(mixed.id);
    return ids.length > 0 && ids;
  }, 'the failing event about mixed');
  expect(announced).toHaveLength(1);
  expect(announced[0]).toMatch(/\/failing\//);
  expect(to('mixed@example.test')).toHaveLength(1);
});

test('a receiver that answers 410 Gone: the subscription is disabled, said once as an event and an e-mail', async () => {
  const alerts = await subscribe(h, receiver, () => ({ status: 200 }), {
    triggers: ['hookflow.subscription.disabled'],
    signature: 'x-signature',
  });
  const gone = await subscribe(h, receiver, () => ({ status: 410 }), {
    name: 'Gone receiver',
    signature: 'x-signature',
    contactEmail: 'gone@example.test',
  });
  await expect((await deliverPublished(h, gone.id)).result()).rejects.toThrow();
  const disabled = () =>
    operational(alerts.requests()).filter(
      (e) => e.type === 'hookflow.subscription.disabled' && e.data.subscriptionId === gone.id,
    );
  await eventually(async () => disabled().length >= 1, 'hookflow.subscription.disabled');
  expect(disabled()[0]!.data).toMatchObject({ name: 'Gone receiver', reason: expect.stringMatching(/410 Gone/) });
  await eventually(async () => to('gone@example.test').length >= 2, 'the failing and disabled e-mails');
  expect(to('gone@example.test').map((m) => m.subject)).toEqual([
    '[hookflow] Gone receiver is failing (HTTP 410)',
    '[hookflow] Gone receiver was disabled',
  ]);
  expect(await health(gone.id)).toMatchObject({ state: 'disabled', lastFailure: { httpStatus: 410 } });
});
