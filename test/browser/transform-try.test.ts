import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription, publish } from '../support/outbound';
import { openConsole } from '../support/browser';

/**
 * The subscription form's "try it" box in a real Chromium: the operator types a transformation, tries it
 * on the latest real event of the subscription (nothing saved), sees the result, then a failing one with
 * the failing spot marked, then saves. Screenshots: docs/screenshots/transform-try.png and transform-try-390px.png.
 */

const SHOTS = join(__dirname, '../../docs/screenshots');

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`console: { temporalUiUrl: "${process.env.HOOKFLOW_TEST_WEB_UI_URL ?? 'http://localhost:8233'}" }\n`),
  );
  await createSubscription(h, {
    id: 'shop-sync',
    name: 'Shop sync',
    url: `${receiver.url}/hook`,
    secret: 's',
    signature: 'x-signature',
    triggers: ['shop.*'],
  });
  const { workflowId } = await publish(h, {
    type: 'shop.OrderPaid',
    entity: 'SO-20881',
    warehouse: 'GreenWarehouse',
    data: {
      orderNumber: 'SO-20881',
      total: 1249.5,
      currency: 'SEK',
      customer: { number: 'C-118', name: 'Norrland Outdoor AB' },
      lines: [
        { sku: 'TENT-2P', qty: 1, price: 999.5 },
        { sku: 'STOVE-01', qty: 2, price: 125 },
      ],
    },
    idempotencyKey: 'browser-so-10442',
  });
  await h.client.workflow.getHandle(workflowId).result();
  await eventually(async () => receiver.requestsTo('/hook').length === 1, 'the delivery');
  ({ browser, page, base } = await openConsole(h));
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
});

const contentBox = () => page.locator('fieldset', { has: page.getByText('Content (JSONata)') });
const shot = (name: string) => contentBox().screenshot({ path: join(SHOTS, `${name}.png`) });
const saved = async () => (await adminApi(h, 'GET', '/api/subscriptions/shop-sync')).json();

test('try it: the unsaved transformation runs on the latest real event and shows the result', async () => {
  await page.goto(`${base}/console/subscriptions/shop-sync`);
  await page
    .getByLabel('Transformation: body', { exact: true })
    .fill(
      '{\n  "order": data.orderNumber,\n  "amount": $round(data.total * 100),\n  "customer": data.customer.name,\n  "skus": data.lines.sku\n}',
    );
  await page.getByLabel('Transformation: extra headers', { exact: true }).fill('x-order: data.orderNumber');
  await page.getByRole('button', { name: 'Try the transformation' }).click();
  const result = page.locator('#try-result');
  await expect(result.textContent()).resolves.toContain('api/browser-so-10442');
  const shown = await page.locator('#try-result pre').first().textContent();
  expect(JSON.parse(shown!)).toEqual({
    order: 'SO-20881',
    amount: 124950,
    customer: 'Norrland Outdoor AB',
    skus: ['TENT-2P', 'STOVE-01'],
  });
  await expect(result.textContent()).resolves.toContain('x-order: SO-20881');
  // What was typed stays in the form; nothing was saved.
  await expect(page.getByLabel('Transformation: body', { exact: true }).inputValue()).resolves.toContain(
    'data.orderNumber',
  );
  expect((await saved()).transform).toBeUndefined();
  await shot('transform-try');
});

test('a failing transformation shows the error with the failing spot marked; at 390 px the box fits', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.getByLabel('Transformation: body', { exact: true }).fill('{"total": data.total + data.currency}');
    await page.getByRole('button', { name: 'Try the transformation' }).click();
    const result = page.locator('#try-result');
    await expect(result.locator('.error').textContent()).resolves.toMatch(
      /failed on this event: T2002 .* at position \d+/,
    );
    await expect(result.locator('mark').count()).resolves.toBe(1);
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(scrollWidth).toBeLessThanOrEqual(390);
    await shot('transform-try-390px');
  } finally {
    await page.setViewportSize({ width: 1366, height: 800 });
  }
});

test('an invalid expression is shown under its field with its position; a valid one is saved', async () => {
  await page.getByLabel('Content filter', { exact: true }).fill('data.total >');
  await page.getByLabel('Transformation: body', { exact: true }).fill('{"order": data.orderNumber}');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('#filterExpression-error').textContent()).resolves.toMatch(
    /invalid JSONata: .* position 12/,
  );
  await page.getByLabel('Content filter', { exact: true }).fill('data.total > 1000');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/\/console\?done=/);
  const subscription = await saved();
  expect(subscription.filterExpression).toBe('data.total > 1000');
  expect(subscription.transform).toEqual({
    body: '{"order": data.orderNumber}',
    headers: { 'x-order': 'data.orderNumber' },
  });
});
