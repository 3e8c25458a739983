import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { deliveryWorkflowId, type DeliverySchedule, type OutboundEvent } from '../../src/shared/delivery';
import { deliveryStartOptions } from '../../src/shared/delivery-start';
import { FakeHttpPeer } from '../support/fake-http';
import { eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, createSubscription } from '../support/outbound';
import { openConsole } from '../support/browser';

/**
 * Bulk retry in a real Chromium: six deliveries failed, one retried and delivered since; the operator
 * counts the failures on the deliveries page (six failed runs), starts the retry and watches its progress
 * until done (five retried, one skipped as delivered). Screenshots: bulk-retry-form, bulk-retry-preview, bulk-retry,
 * bulk-retry-390px. Then the custom retry schedule's form refuses a longest wait shorter than the first.
 */

const SHOTS = join(__dirname, '../../docs/screenshots');
const schedule: DeliverySchedule = {
  policy: 'none',
  timeoutMs: 5_000,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 1_000,
  windowMs: 60_000,
};

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let browser: Browser;
let page: Page;
let failing = true;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = await new FakeHttpPeer(() => ({ status: failing ? 500 : 200 })).start();
  h = await startHarness(
    testConfig(`console: { temporalUiUrl: "${process.env.HOOKFLOW_TEST_WEB_UI_URL ?? 'http://localhost:8233'}" }`),
  );
  await createSubscription(h, {
    id: 'erp-retry',
    name: 'ERP sync',
    url: `${receiver.url}/hook`,
    triggers: ['shop.*'],
    retryPolicy: 'none',
  });
  const handles = await Promise.all(
    Array.from({ length: 6 }, (_, i) => {
      const uuid = randomUUID();
      const event: OutboundEvent = {
        id: `api/order-SO-${1040 + i}-paid`,
        uuid,
        type: i % 2 ? 'shop.OrderShipped' : 'shop.OrderPaid',
        occurredAt: new Date().toISOString(),
        data: { i },
      };
      return h.client.workflow.start('deliveryWorkflow', {
        ...deliveryStartOptions(
          { subscriptionId: 'erp-retry', workflowId: deliveryWorkflowId(event.id, 'erp-retry'), schedule },
          event,
        ),
        taskQueue: h.config.temporal.taskQueue,
      });
    }),
  );
  await Promise.allSettled(handles.map((handle) => handle.result()));
  // The receiver is fixed; one delivery is retried on its own and delivered.
  failing = false;
  const first = handles[0]!.workflowId;
  expect((await adminApi(h, 'POST', `/api/deliveries/${encodeURIComponent(first)}/retry`)).statusCode).toBe(202);
  await h.client.workflow.getHandle(first).result();
  await eventually(
    async () =>
      (
        await h.client.workflow.count(
          `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = 'erp-retry' AND ExecutionStatus = 'Failed'`,
        )
      ).count === 6,
    'six failed runs listed',
  );

  ({ browser, page, base } = await openConsole(h));
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('the operator counts the failed deliveries, retries them and watches the job to its end', async () => {
  await page.goto(`${base}/console/subscriptions/erp-retry/deliveries`);
  await page.getByText('Retry failed deliveries in bulk').click();
  await page.getByLabel('Last HTTP status').fill('500');
  await page.locator('#bulk-retry').screenshot({ path: join(SHOTS, 'bulk-retry-form.png') });
  await page.getByRole('button', { name: 'Count them' }).click();
  await page.waitForURL(/\/console\/subscriptions\/erp-retry\/retry\?/);
  await expect(page.locator('#bulk-preview-count').textContent()).resolves.toBe('6');
  await expect(page.locator('#retention').textContent()).resolves.toMatch(/keeps deliveries for/);
  await shot('bulk-retry-preview');

  await page.getByRole('button', { name: 'Retry them' }).click();
  await page.waitForURL(/\/console\/subscriptions\/erp-retry\/retry\/[a-f0-9]+$/);
  // The page reloads itself every 2 s while the job runs.
  await page.locator('#bulk-state', { hasText: 'done' }).waitFor({ timeout: 30_000 });
  await expect(page.locator('#bulk-matched').textContent()).resolves.toBe('6');
  await expect(page.locator('#bulk-retried').textContent()).resolves.toBe('5');
  await expect(page.locator('#bulk-skipped-delivered').textContent()).resolves.toBe('1');
  await expect(page.locator('#bulk-errors').textContent()).resolves.toBe('0');
  await shot('bulk-retry');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot('bulk-retry-390px');
  await page.setViewportSize({ width: 1366, height: 800 });
});

test('the custom retry schedule: a longest wait shorter than the first is refused in words', async () => {
  await page.goto(`${base}/console/subscriptions/erp-retry`);
  await page.getByLabel('Retry policy').selectOption('custom');
  await page.getByLabel('Custom: first wait').fill('PT5M');
  await page.getByLabel('Custom: backoff coefficient').fill('2');
  await page.getByLabel('Custom: longest wait').fill('PT1M');
  await page.getByLabel('Custom: keep trying for').fill('PT6H');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('must be at least the first one').first().isVisible()).resolves.toBe(true);
});
