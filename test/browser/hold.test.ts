import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { FakeHttpPeer } from '../support/fake-http';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { adminApi, deliverPublished, subscribe } from '../support/outbound';
import { openConsole } from '../support/browser';

/**
 * Hold and release in the console, in a real Chromium against a real dev server and worker: a receiver
 * that is down trips the breaker (held since T by breaker, the breaker tripped at T), an operator releases
 * it; an operator holds a healthy one (letting its retry budget run) and releases it. Screenshots of the
 * list while held go to docs/screenshots/ (desktop and 390 px).
 */

const SHOTS = join(__dirname, '../../docs/screenshots');

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let browser: Browser;
let page: Page;
let down = true;
let erpId: string;
let crmId: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  h = await startHarness(
    testConfig(`
delivery: { oneDay: { initialInterval: PT0.3S, backoffCoefficient: 1, maximumInterval: PT0.5S, window: PT5M } }
alerts: { healthCheckInterval: PT0.5S }
`),
  );
  ({ browser, page, base } = await openConsole(h, { signIn: false }));
  erpId = (
    await subscribe(h, receiver, () => ({ status: down ? 503 : 200 }), {
      id: 'erp-orders',
      name: 'ERP orders',
      contactEmail: 'erp-team@example.test',
      breaker: { enabled: true, consecutiveFailures: 3, failingForMs: 600_000 },
    })
  ).id;
  crmId = (
    await subscribe(h, receiver, () => ({ status: 200 }), {
      id: 'crm-contacts',
      name: 'CRM contacts',
      contactEmail: 'crm@example.test',
    })
  ).id;
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const row = (id: string) => page.locator(`#sub-${id}`);
/** Reloads the list until the row says `text`. */
const untilRowSays = (id: string, text: string | RegExp) =>
  eventually(
    async () => {
      await page.goto(`${base}/console`);
      const content = (await row(id).textContent()) ?? '';
      return typeof text === 'string' ? content.includes(text) : text.test(content);
    },
    `the row of ${id} to say ${String(text)}`,
    30_000,
  );

test('signed in, every subscription shows its breaker closed and a Hold button', async () => {
  await page.goto(`${base}/console`);
  await page.getByLabel('Admin token', { exact: true }).fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console`);
  await expect(row(erpId).textContent()).resolves.toContain('breaker closed (trips at 3 failures or 10 min)');
  await expect(row(crmId).textContent()).resolves.toContain('breaker closed (trips at 10 failures or 15 min)');
  await expect(row(erpId).getByRole('button', { name: 'Hold ERP orders' }).isVisible()).resolves.toBe(true);
});

test('a receiver that is down trips the breaker: held since T by breaker, the breaker tripped at T', async () => {
  await deliverPublished(h, erpId);
  await untilRowSays(erpId, /held since .+ by breaker, \d+ waiting/);
  await untilRowSays(erpId, /breaker tripped at .+ \(3 consecutive failed attempts\)/);
  await expect(row(erpId).getByRole('button', { name: 'Release ERP orders' }).isVisible()).resolves.toBe(true);
  await shot('hold');
  // The subscription's own page says the same, with its Release button.
  await page.goto(`${base}/console/subscriptions/${erpId}`);
  await expect(page.locator('#hold-state').textContent()).resolves.toMatch(
    /held since .+ by breaker, \d+ waiting[\s\S]*breaker tripped at .+ \(3 consecutive failed attempts\)/,
  );
  await expect(page.locator('#hold-state').getByRole('button', { name: 'Release' }).isVisible()).resolves.toBe(true);
  await page.locator('#hold-state').screenshot({ path: join(SHOTS, 'hold-subscription.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${base}/console`);
    const release = (await row(erpId).getByRole('button', { name: 'Release ERP orders' }).boundingBox())!;
    expect(release.x + release.width).toBeLessThanOrEqual(390);
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(scrollWidth).toBeLessThanOrEqual(390);
    await shot('hold-390px');
  } finally {
    await page.setViewportSize({ width: 1366, height: 800 });
  }
});

test('the receiver is up: Release ends the hold, the breaker is closed again', async () => {
  down = false;
  await page.goto(`${base}/console`);
  await row(erpId).getByRole('button', { name: 'Release ERP orders' }).click();
  await page.waitForURL(/done=Released/);
  await expect(page.getByRole('status').first().textContent()).resolves.toContain('Released erp-orders.');
  await untilRowSays(erpId, 'breaker closed');
  expect(await row(erpId).textContent()).not.toContain('held since');
  const stored = (await adminApi(h, 'GET', `/api/subscriptions/${erpId}`)).json();
  expect(stored.hold).toBeUndefined();
});

test('an operator holds a healthy subscription, letting its retry budget run, and releases it', async () => {
  await page.goto(`${base}/console`);
  await row(crmId).getByLabel('let the retry budget run while held').check();
  await row(crmId).getByRole('button', { name: 'Hold CRM contacts' }).click();
  await page.waitForURL(/done=Held/);
  await untilRowSays(crmId, /held since .+ by operator/);
  await expect(row(crmId).textContent()).resolves.toContain('retry budget runs while held');
  const stored = (await adminApi(h, 'GET', `/api/subscriptions/${crmId}`)).json();
  expect(stored.hold).toMatchObject({ by: 'operator', budgetRuns: true });
  await row(crmId).getByRole('button', { name: 'Release CRM contacts' }).click();
  await page.waitForURL(/done=Released/);
  await untilRowSays(crmId, 'breaker closed');
  expect(await row(crmId).textContent()).not.toContain('held since');
});

test("the subscription's form edits its breaker", async () => {
  await page.goto(`${base}/console/subscriptions/${crmId}`);
  await expect(page.getByLabel('Hold the subscription while its receiver keeps failing').isChecked()).resolves.toBe(
    true,
  );
  await page.getByLabel('After failed attempts in a row').fill('5');
  await page.getByLabel('Or after failing for (minutes)').fill('30');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/done=Saved/);
  const stored = (await adminApi(h, 'GET', `/api/subscriptions/${crmId}`)).json();
  expect(stored.breaker).toEqual({ enabled: true, consecutiveFailures: 5, failingForMs: 30 * 60_000 });
  await expect(row(crmId).textContent()).resolves.toContain('breaker closed (trips at 5 failures or 30 min)');
});
