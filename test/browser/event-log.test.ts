import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FakeHttpPeer } from '../support/fake-http';
import { startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription } from '../support/outbound';
import { extendBody, post, sign } from '../support/webhooks';
import { openConsole } from '../support/browser';

/**
 * The event log in a real Chromium: the operator searches an order number, finds its events and their
 * deliveries, opens one and reads the notification; at 390 px the rows are cards. Screenshots go to
 * docs/screenshots/ (events, event, events-390px).
 */

const SHOTS = join(__dirname, '../../docs/screenshots');
const SECRET = 'event-log-browser-secret';

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
console: { temporalUiUrl: "${process.env.HOOKFLOW_TEST_WEB_UI_URL ?? 'http://localhost:8233'}" }
sources:
  - { id: erp, kind: extend-commerce, secret: ${SECRET}, filter: { warehouses: [GreenWarehouse] } }
`),
  );
  await createSubscription(h, {
    id: 'erp-events',
    url: `${receiver.url}/hook`,
    secret: 's',
    triggers: ['extend-commerce.OrderCreated', 'extend-commerce.OrderPicked'],
  });
  const body = extendBody([
    { Action: 'OrderCreated', Details: { OrderNumber: 'SO-10442', Warehouse: 'GreenWarehouse', OrderType: 'B2B' } },
    { Action: 'OrderPicked', Details: { OrderNumber: 'SO-10442', Warehouse: 'GreenWarehouse' } },
    { Action: 'OrderCreated', Details: { OrderNumber: 'SO-10443', Warehouse: 'YX' } },
    { Action: 'ProductChanged', Details: { ProductNumber: 'ART-7' } },
  ]);
  const text = JSON.stringify(body);
  const res = await post(h.app, '/webhooks/erp', text, { 'ms-signature': sign.ms(SECRET, text) });
  await Promise.all(
    (res.json().events as Array<{ workflowId: string }>).map((e) => h.client.workflow.getHandle(e.workflowId).result()),
  );
  ({ browser, page, base } = await openConsole(h));
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('the operator searches an order number and finds its events and deliveries', async () => {
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByLabel('Order number or entity').fill('SO-10442');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/entity=SO-10442/);
  // Visibility may trail the last delivery's close by a moment.
  for (
    let i = 0;
    i < 50 && (await page.locator('#events tbody tr .badge.ok', { hasText: 'delivered' }).count()) < 2;
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await page.reload();
  }
  const rows = page.locator('#events tbody tr');
  await expect(rows.count()).resolves.toBe(2);
  await expect(rows.first().textContent()).resolves.toContain('erp-events');
  await expect(page.locator('#events').textContent()).resolves.toContain('extend-commerce.OrderCreated');
  await shot('events');
});

test('an event opens with its notification and its deliveries, each linked to its attempts', async () => {
  await page.getByRole('link', { name: 'extend-commerce.OrderCreated' }).click();
  await expect(page.locator('#notification').textContent()).resolves.toContain('"OrderNumber": "SO-10442"');
  await expect(page.locator('#deliveries').textContent()).resolves.toContain('erp-events');
  await expect(page.locator('#deliveries .badge').textContent()).resolves.toBe('delivered');
  await shot('event');
  // The delivery's attempt log is one click away.
  await page.locator('#deliveries').getByRole('link', { name: 'Attempts' }).click();
  await page.waitForURL(/\/console\/deliveries\//);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Attempts of');
  await page.goBack();
});

test('a filtered event is found by its status; at 390 px the rows are cards with the status in view', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${base}/console/events?status=filtered`);
    const row = page.locator('#events tbody tr').first();
    await expect(row.textContent()).resolves.toContain('SO-10443');
    const box = (await row.locator('.badge').first().boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(scrollWidth).toBeLessThanOrEqual(390);
    await page.goto(`${base}/console/events?entity=SO-10442`);
    await shot('events-390px');
  } finally {
    await page.setViewportSize({ width: 1366, height: 800 });
  }
});
