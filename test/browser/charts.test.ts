import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { createSubscription, publish } from '../support/outbound';
import { deliveriesQuery } from '../../src/temporal/deliveries';
import { openConsole } from '../support/browser';

/**
 * The subscription's deliveries page draws its last 24 h (deliveries and failures per hour, time to
 * deliver) as server-rendered SVG: no script needed, readable at 390 px. Screenshots go to
 * docs/screenshots/ (charts, charts-390px).
 */

const SHOTS = join(__dirname, '../../docs/screenshots');
const ID = 'charts-demo';
const EVENTS = 12;

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  let answered = 0;
  // Every fourth request is refused: with the `none` policy that delivery fails at once.
  receiver = await new FakeHttpPeer(() => ({ status: ++answered % 4 === 0 ? 503 : 200 })).start();
  h = await startHarness(testConfig(''));
  await createSubscription(h, {
    id: ID,
    url: `${receiver.url}/hook`,
    secret: 'charts-secret-123',
    triggers: ['shop.*'],
    retryPolicy: 'none',
  });
  for (let i = 0; i < EVENTS; i++) await publish(h, { type: 'shop.OrderPaid', data: { orderNumber: `SO-C${i}` } });
  const closed = `${deliveriesQuery(ID)} AND ExecutionStatus != 'Running'`;
  await eventually(
    async () => Number((await h.client.workflow.count(closed)).count) === EVENTS,
    'every delivery closed in visibility',
    60_000,
  );
  ({ browser, page, base } = await openConsole(h, { context: { javaScriptEnabled: false } }));
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
});

test('the deliveries page charts the last 24 h without a script: deliveries, failures, time to deliver', async () => {
  await page.goto(`${base}/console/subscriptions/${ID}/deliveries`);
  const charts = page.locator('#charts');
  await expect(charts.textContent()).resolves.toContain('9 delivered, 3 failed');
  // The current hour's bar: its parts say what they count.
  const parts = await page.locator('#chart-deliveries svg rect title').allTextContents();
  expect(parts).toEqual(
    expect.arrayContaining([expect.stringMatching(/ 9 delivered$/), expect.stringMatching(/ 3 failed$/)]),
  );
  await expect(page.locator('#chart-latency svg circle').count()).resolves.toBeGreaterThanOrEqual(2);
  // The figures behind each chart are listed too (24 hours), the current hour last.
  const hours = page.locator('#chart-deliveries ol.figures li');
  await expect(hours.count()).resolves.toBe(24);
  await expect(hours.last().textContent()).resolves.toMatch(/^\d\d:00 UTC: 9 delivered, 3 failed$/);
  await charts.screenshot({ path: join(SHOTS, 'charts.png') });
});

test('at 390 px the charts scale to the screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const box = (await page.locator('#chart-deliveries svg').last().boundingBox())!;
  expect(box.width).toBeGreaterThan(300);
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  const scrollWidth = await page.evaluate(
    () =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
        .scrollWidth,
  );
  expect(scrollWidth).toBeLessThanOrEqual(390);
  await page.locator('#charts').screenshot({ path: join(SHOTS, 'charts-390px.png') });
});
