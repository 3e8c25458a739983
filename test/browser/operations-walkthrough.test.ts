import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { healthWorkflowId } from '../../src/shared/health';
import { FakeHttpPeer } from '../support/fake-http';
import { Mailbox } from '../support/mailbox';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription, json } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';
import { openConsole } from '../support/browser';

/**
 * An outage as the operator lives it, in a real Chromium against a real dev server, a loopback SMTP
 * server and loopback receivers. The warehouse's receiver goes down (503): its subscription turns
 * failing on the subscriptions page after one attempt; the operator finds the order in the event log
 * with its deliveries, opens the BI export's attempt and reads the receiver's 422 body; the warehouse's
 * receiver comes back: healthy again, `hookflow.subscription.recovered` reaches the alert subscription,
 * and the contact has one e-mail per change of state. One story, in order. Screenshots of each step go
 * to docs/screenshots/ (walkthrough-*, desktop and 390 px).
 */

const SHOTS = join(__dirname, '../../docs/screenshots');
const SECRET = 'walkthrough-extend-secret';
const ORDER = `SO-${Date.now().toString(36).toUpperCase()}`;
const WMS = 'warehouse-sync';
const BI = 'bi-export';
const ALERTS = 'ops-alerts';
const BI_ANSWER = { error: 'unknown_article', message: 'Article ART-9 is not in the BI catalogue', line: 2 };

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let mailbox: Mailbox;
let browser: Browser;
let page: Page;

/**
 * The warehouse's receiver: the first attempt gets 503; the second is held open until the receiver
 * "comes back" (then 200). So there is exactly one failed attempt, whatever the machine's speed.
 */
let comeBack!: () => void;
const back = new Promise<void>((resolve) => (comeBack = resolve));
let warehouseRequests = 0;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mailbox = await new Mailbox().start();
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  receiver.on('/wms', async () => {
    if (++warehouseRequests === 1) return { status: 503, body: { error: 'maintenance' } };
    await back;
    return { status: 200 };
  });
  receiver.on('/bi', () => ({ status: 422, body: BI_ANSWER }));
  h = await startHarness(
    testConfig(`
console: { temporalUiUrl: "${process.env.HOOKFLOW_TEST_WEB_UI_URL ?? 'http://localhost:8233'}" }
sources:
  - { id: erp, kind: extend-commerce, secret: ${SECRET} }
delivery: { oneDay: { initialInterval: PT0.5S, backoffCoefficient: 1, maximumInterval: PT1S, window: PT5M } }
alerts:
  healthCheckInterval: PT0.5S
  recoveredGrace: PT2S
  ${mailbox.emailConfig}
`),
  );
  await createSubscription(h, {
    id: WMS,
    name: 'Warehouse sync',
    contactEmail: 'warehouse-team@example.test',
    url: `${receiver.url}/wms`,
    secret: 'wms-secret',
    triggers: ['extend-commerce.OrderCreated'],
    retryPolicy: 'one-day',
    // The held second attempt must not time out while the operator looks around.
    connectionTimeout: 'PT5M',
  });
  await createSubscription(h, {
    id: BI,
    name: 'BI export',
    contactEmail: 'bi-team@example.test',
    url: `${receiver.url}/bi`,
    secret: 'bi-secret',
    triggers: ['extend-commerce.OrderCreated'],
  });
  await createSubscription(h, {
    id: ALERTS,
    name: 'Ops alerts',
    contactEmail: 'ops@example.test',
    url: `${receiver.url}/alerts`,
    secret: 'alerts-secret',
    // hookflow's JSON event ({ type, data }) rather than Extend's envelope.
    signature: 'x-signature',
    triggers: ['hookflow.*'],
  });
  ({ browser, page, base } = await openConsole(h));
}, 90_000);

afterAll(async () => {
  comeBack?.();
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
  await mailbox?.stop();
});

/** A full-page screenshot at the desktop size, and one at 390 px (a phone) unless `phone` is false. */
async function shot(name: string, phone = true) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  if (!phone) return;
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.screenshot({ path: join(SHOTS, `${name}-390px.png`), fullPage: true });
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    // Nothing wider than the phone (the failure names the page).
    expect({ name, scrollWidth }).toEqual({ name, scrollWidth: Math.min(scrollWidth, 390) });
  } finally {
    await page.setViewportSize({ width: 1366, height: 800 });
  }
}

/** Reloads the page until `ready` holds (the console reads visibility, which trails by a moment). */
async function reloadUntil(ready: () => Promise<boolean>, what: string) {
  await eventually(
    async () => {
      if (await ready()) return true;
      await page.reload();
      return false;
    },
    what,
    30_000,
  );
}

const aboutWarehouse = () =>
  receiver
    .requestsTo('/alerts')
    .map((r) => json(r) as { type: string; data: { subscriptionId?: string; state?: string } })
    .filter((e) => e.data.subscriptionId === WMS);
const mailsTo = (address: string) => mailbox.to(address);

test('the warehouse receiver goes down: failing on the subscriptions page after one attempt', async () => {
  const text = JSON.stringify(
    extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: ORDER, Warehouse: 'GreenWarehouse' } }]),
  );
  const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms(SECRET, text) });
  expect(res.statusCode).toBe(202);

  await page.goto(`${base}/console`);
  const health = page.locator(`#sub-${WMS} td[data-label="Health"]`);
  await reloadUntil(async () => /failing since/.test((await health.textContent()) ?? ''), 'warehouse sync failing');
  await expect(health.textContent()).resolves.toMatch(/failing since .+ \(1 failure, last 503\)/);
  await expect(page.locator(`#sub-${WMS} .badge.bad`).count()).resolves.toBe(1);
  // One attempt failed; the second one is held at the receiver.
  expect(warehouseRequests).toBeLessThanOrEqual(2);
  await expect(page.locator(`#sub-${ALERTS} td[data-label="Health"]`).textContent()).resolves.toContain('healthy');
  await shot('walkthrough-1-failing');

  // The alert subscription hears of it once, and the warehouse team gets one e-mail.
  await eventually(async () => aboutWarehouse().length >= 1, 'hookflow.subscription.failing at the alerts');
  expect(aboutWarehouse().map((e) => e.type)).toEqual(['hookflow.subscription.failing']);
  await eventually(async () => mailsTo('warehouse-team@example.test').length >= 1, 'the failing e-mail');
  expect(mailsTo('warehouse-team@example.test').map((m) => m.subject)).toEqual([
    '[hookflow] Warehouse sync is failing (HTTP 503)',
  ]);
});

test('the operator searches the order number and finds the event and its deliveries', async () => {
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByLabel('Order number or entity').fill(ORDER);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(new RegExp(`entity=${ORDER}`));
  const rows = page.locator('#events tbody tr');
  // The BI export's delivery has failed (422, not retried); visibility may trail it by a moment.
  await reloadUntil(
    async () =>
      (await rows.count()) === 1 && (await rows.first().locator('.badge.bad', { hasText: 'failed' }).count()) === 1,
    'the event with its failed BI delivery',
  );
  const row = (await rows.first().textContent()) ?? '';
  expect(row).toContain('extend-commerce.OrderCreated');
  expect(row).toContain(ORDER);
  expect(row).toContain(WMS);
  expect(row).toContain(BI);
  expect(row).toContain('HTTP 422');
  await shot('walkthrough-2-search');

  await page.getByRole('link', { name: 'extend-commerce.OrderCreated' }).click();
  await expect(page.locator('#notification').textContent()).resolves.toContain(`"OrderNumber": "${ORDER}"`);
  const deliveries = page.locator('#deliveries tbody tr');
  await expect(deliveries.count()).resolves.toBe(2);
  await expect(deliveries.filter({ hasText: BI }).locator('.badge').textContent()).resolves.toBe('failed');
  await expect(
    deliveries.filter({ hasText: WMS }).locator('td[data-label="Last HTTP status"]').textContent(),
  ).resolves.toBe('503');
  await shot('walkthrough-3-event');
});

test("an attempt shows the receiver's 4xx body", async () => {
  await page.locator('#deliveries tbody tr', { hasText: BI }).getByRole('link', { name: 'Attempts' }).click();
  await page.waitForURL(/\/console\/deliveries\//);
  const attempt = page.getByRole('region', { name: 'Attempt 1' });
  await expect(attempt.locator('.http-status').textContent()).resolves.toMatch(/HTTP 422 Unprocessable Entity/);
  const body = JSON.parse((await attempt.locator('pre.body').textContent()) ?? '');
  expect(body).toEqual(BI_ANSWER);
  await expect(page.locator('#delivery-failure').textContent()).resolves.toContain('422');
  await shot('walkthrough-4-attempt-422');
});

test('the receiver comes back: healthy, recovered at the alert subscription, one e-mail per change', async () => {
  comeBack();
  await page.goto(`${base}/console`);
  const health = page.locator(`#sub-${WMS} td[data-label="Health"]`);
  await reloadUntil(async () => ((await health.textContent()) ?? '').trim() === 'healthy', 'warehouse sync healthy');
  await expect(page.locator(`#sub-${WMS} .badge.ok`, { hasText: 'healthy' }).count()).resolves.toBe(1);
  // The BI export stays failing: its receiver refused the event, nothing was delivered since.
  await expect(page.locator(`#sub-${BI} td[data-label="Health"]`).textContent()).resolves.toMatch(
    /failing since .+ \(1 failure, last 422\)/,
  );
  await shot('walkthrough-5-recovered');

  await eventually(async () => aboutWarehouse().length >= 2, 'hookflow.subscription.recovered at the alerts');
  expect(aboutWarehouse().map((e) => e.type)).toEqual([
    'hookflow.subscription.failing',
    'hookflow.subscription.recovered',
  ]);
  expect(aboutWarehouse()[1]!.data).toMatchObject({ subscriptionId: WMS, state: 'healthy' });
  await eventually(async () => mailsTo('warehouse-team@example.test').length >= 2, 'the recovered e-mail');
  expect(mailsTo('warehouse-team@example.test').map((m) => m.subject)).toEqual([
    '[hookflow] Warehouse sync is failing (HTTP 503)',
    '[hookflow] Warehouse sync recovered',
  ]);
  // The health workflow, which alone announces changes, ends after its grace: nothing more can follow.
  await h.client.workflow.getHandle(healthWorkflowId(WMS)).result();
  expect(aboutWarehouse()).toHaveLength(2);
  expect(mailsTo('warehouse-team@example.test')).toHaveLength(2);
  expect(mailsTo('bi-team@example.test').map((m) => m.subject)).toEqual(['[hookflow] BI export is failing (HTTP 422)']);
  expect(warehouseRequests).toBe(2);
  // No one hears of the alert subscription: it never failed.
  expect(mailsTo('ops@example.test')).toEqual([]);
});
