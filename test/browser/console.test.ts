import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { publicView } from '../../src/subscriptions/seal';
import { SubscriptionStore } from '../../src/subscriptions/store';
import { requireKeyring } from '../../src/security/from-config';
import { FakeHttpPeer } from '../support/fake-http';
import { ADMIN_TOKEN, eventually, startHarness, testConfig, type Harness } from '../support/harness';
import { makeTestPki } from '../support/pki';

/**
 * The console in a real Chromium against a real dev server (with its Web UI), worker and API on loopback,
 * and a receiver on 127.0.0.1 over TLS signed by a throwaway CA. One story, in order: each test builds on
 * the one before. Screenshots of the main pages go to docs/screenshots/ (shown in the README).
 */

const SHOTS = join(__dirname, '../../docs/screenshots');
const SECRET = 'console-signing-secret-1f2e3d';
const KEY = 'console-key-abc123';
const PASSWORD = 'console-basic-password-x9';

let h: Harness;
let base: string;
let receiver: FakeHttpPeer;
let receiverStatus = 200;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let store: SubscriptionStore;
const pki = makeTestPki();
const uiUrl = process.env.HOOKFLOW_TEST_WEB_UI_URL!;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  receiver = await new FakeHttpPeer(() => ({ status: receiverStatus, body: { ok: receiverStatus < 300 } }), {
    key: pki.serverKey,
    cert: pki.serverCert,
  }).start();
  h = await startHarness(
    testConfig(`console: { temporalUiUrl: "${uiUrl}" }\nalerts: { healthCheckInterval: PT0.5S }\n`),
  );
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  store = new SubscriptionStore(h.client, h.config.temporal.taskQueue, requireKeyring(h.config, 'test'));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  // A laptop screen, in a time zone that is not UTC: dates must show in it.
  context = await browser.newContext({
    viewport: { width: 1366, height: 800 },
    timezoneId: 'Europe/Stockholm',
    locale: 'en-GB',
  });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const fill = async (label: string, value: string) => page.getByLabel(label, { exact: true }).fill(value);

test('nothing is served without signing in; a wrong token is refused', async () => {
  await page.goto(`${base}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/login');
  await fill('Admin token', 'not-the-token-at-all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').textContent()).resolves.toContain('not the admin token');
  await shot('sign-in');
  await fill('Admin token', ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console`);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Subscriptions');
  const session = (await context.cookies()).find((c) => c.name === 'hookflow_console');
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
  // Not readable by scripts (HttpOnly).
  expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe(
    '',
  );
});

test('create a subscription with every field; a wrong value is shown next to its field', async () => {
  await page.getByRole('link', { name: 'New subscription' }).first().click();
  await fill('Id', 'erp-sync');
  await fill('Name', 'ERP sync');
  await fill('Contact e-mail', 'ops@example.com');
  await fill('Callback URL', `${receiver.url}/hook`);
  await page.getByLabel('Triggers').fill('hookflow.*\nextend-commerce.*');
  await fill('Warehouses', 'WH1, WH2');
  await fill('Goods owners', '12, twelve');
  await page.getByLabel('Retry policy').selectOption('none');
  await fill('Connection timeout', 'PT10S');
  await page.getByLabel('Signature', { exact: true }).selectOption('x-signature');
  await page.getByLabel(/^Signing secret/).fill(SECRET);
  await page.getByLabel(/^Key/).fill(KEY);
  await page.getByLabel('Authentication', { exact: true }).selectOption('basic');
  await fill('Username (basic)', 'hookflow');
  await page.getByLabel(/^Password \(basic\)/).fill(PASSWORD);
  await page.getByLabel('CA certificate (PEM)').fill(pki.caCert);
  await page.getByLabel('Client certificate (PEM)').fill(pki.clientCert);
  await page.getByLabel(/^Client key \(PEM\)/).fill(pki.clientKey);
  await page.getByRole('button', { name: 'Create subscription' }).click();

  // The API's schema refused "twelve"; the message sits under the field, the field is marked invalid.
  const goodsOwners = page.getByLabel('Goods owners');
  await expect(goodsOwners.getAttribute('aria-invalid')).resolves.toBe('true');
  const errorId = await goodsOwners.getAttribute('aria-describedby');
  await expect(page.locator(`#${errorId}`).textContent()).resolves.toMatch(/number/i);
  // What was typed is kept, except the secrets, which are never sent back.
  await expect(page.getByLabel('Name', { exact: true }).inputValue()).resolves.toBe('ERP sync');
  const html = await page.content();
  for (const secret of [SECRET, KEY, PASSWORD, pki.clientKey.split('\n')[1]!]) expect(html).not.toContain(secret);
  await shot('validation-error');

  await fill('Goods owners', '12, 34');
  await page.getByLabel(/^Signing secret/).fill(SECRET);
  await page.getByLabel(/^Key/).fill(KEY);
  await page.getByLabel(/^Password \(basic\)/).fill(PASSWORD);
  await page.getByLabel(/^Client key \(PEM\)/).fill(pki.clientKey);
  await page.getByRole('button', { name: 'Create subscription' }).click();
  await page.waitForURL(/\/console\?done=/);
  await expect(page.getByRole('status').textContent()).resolves.toContain('Created erp-sync');

  const stored = publicView(await store.get('erp-sync'));
  expect(stored).toMatchObject({
    name: 'ERP sync',
    contactEmail: 'ops@example.com',
    url: `${receiver.url}/hook`,
    active: true,
    triggers: ['hookflow.*', 'extend-commerce.*'],
    filter: { warehouses: ['WH1', 'WH2'], goodsOwners: [12, 34] },
    retryPolicy: 'none',
    connectionTimeout: 'PT10S',
    signature: 'x-signature',
    secret: '********',
    key: '********',
    auth: { type: 'basic', username: 'hookflow', password: '********' },
    tls: { verify: true, clientKey: '********' },
  });
  expect(stored.tls.ca?.trim()).toBe(pki.caCert.trim());
});

test('the list shows the subscription; its edit page never shows the secrets', async () => {
  await page.goto(`${base}/console`);
  const row = page.locator('#sub-erp-sync');
  await expect(row.textContent()).resolves.toMatch(
    /ERP sync[\s\S]*hookflow\.\*\s*extend-commerce\.\*[\s\S]*WH1, WH2[\s\S]*12, 34[\s\S]*none[\s\S]*active/,
  );
  await shot('subscriptions');
  await row.getByRole('link', { name: 'Edit' }).click();
  const html = await page.content();
  for (const secret of [SECRET, KEY, PASSWORD, pki.clientKey.split('\n')[1]!]) expect(html).not.toContain(secret);
  await expect(page.getByLabel(/^Signing secret/).inputValue()).resolves.toBe('');
  expect(html).toContain('set</span>');
  await fill('Name', 'ERP sync (edited)');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/\/console\?done=/);
  await expect(row.textContent()).resolves.toContain('ERP sync (edited)');
  // Secrets left empty on the form were kept.
  expect(publicView(await store.get('erp-sync'))).toMatchObject({
    name: 'ERP sync (edited)',
    secret: '********',
    key: '********',
    auth: { type: 'basic' },
    tls: { clientKey: '********' },
  });
});

test('disable and enable', async () => {
  const row = page.locator('#sub-erp-sync');
  await row.getByRole('button', { name: 'Disable ERP sync (edited)' }).click();
  await page.waitForURL(/done=Disabled/);
  await expect(row.textContent()).resolves.toContain('inactive');
  expect((await store.get('erp-sync')).active).toBe(false);
  await row.getByRole('button', { name: 'Enable ERP sync (edited)' }).click();
  await page.waitForURL(/done=Enabled/);
  await expect(row.locator('.badge').first().textContent()).resolves.toBe('active');
  expect((await store.get('erp-sync')).active).toBe(true);
});

test('Test sends hookflow.test to the receiver and shows its answer', async () => {
  const before = receiver.requestsTo('/hook').length;
  await page.locator('#sub-erp-sync').getByRole('button', { name: 'Test ERP sync (edited)' }).click();
  await page.waitForURL(/\/deliveries\?test=/);
  await page.locator('#test-result', { hasText: 'Receiver answered' }).waitFor({ timeout: 30_000 });
  await expect(page.locator('#test-result .http-status').textContent()).resolves.toBe('200');
  const arrived = receiver.requestsTo('/hook').slice(before);
  expect(arrived).toHaveLength(1);
  expect(JSON.parse(arrived[0]!.body.toString('utf8'))).toMatchObject({ type: 'hookflow.test' });
  expect(arrived[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`hookflow:${PASSWORD}`).toString('base64')}`);
  // Dates are shown in the browser's time zone (Stockholm), with the ISO instant in the title.
  const started = page.locator('tbody time').first();
  const iso = (await started.getAttribute('datetime'))!;
  const expected = new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'medium',
    timeZone: 'Europe/Stockholm',
  }).format(new Date(iso));
  await expect(started.textContent()).resolves.toBe(expected);
});

test('a failed delivery shows up with Retry, and Retry delivers it', async () => {
  receiverStatus = 500;
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await page.locator('#test-result', { hasText: 'Receiver answered' }).waitFor({ timeout: 30_000 });
  await expect(page.locator('#test-result').textContent()).resolves.toMatch(/HTTP\s*500/);
  // retryPolicy none: one attempt, then the delivery workflow fails (visibility may trail by a moment).
  const retry = page.getByRole('button', { name: /^Retry delivery\// }).first();
  await eventually(async () => {
    await page.reload();
    return (await retry.count()) > 0;
  }, 'a failed delivery with a Retry button');
  const failedRow = page.locator('tbody tr', { has: retry });
  await expect(failedRow.textContent()).resolves.toMatch(/failed[\s\S]*500/);
  await shot('deliveries');
  const id = (await retry.getAttribute('aria-label'))!.replace('Retry ', '');
  // What did the receiver answer? The row's Attempts link opens the attempt log, body and all.
  await failedRow.getByRole('link', { name: 'Attempts', exact: true }).click();
  await page.locator('.attempt .http-status', { hasText: 'HTTP 500' }).first().waitFor();
  await expect(page.locator('.attempt pre.body').first().textContent()).resolves.toContain('"ok": false');
  await shot('attempts');
  await eventually(async () => {
    await page.goto(`${base}/console`);
    return /^failing since .* \(1 failure, last 500\)$/.test(
      (await page.locator('#sub-erp-sync td').nth(5).textContent()) ?? '',
    );
  }, 'the subscription shown as failing');
  await page.goto(`${base}/console/subscriptions/erp-sync/deliveries`);
  const before = receiver.requestsTo('/hook').length;
  receiverStatus = 200;
  await retry.click();
  await page.waitForURL(/done=Retrying/);
  await eventually(async () => receiver.requestsTo('/hook').length > before, 'the retried delivery at the receiver');
  await eventually(
    async () => (await h.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED',
    'the retried delivery to complete',
  );
  // The console shows the delivery as delivered now, once, without Retry; the list counts no failure.
  await eventually(async () => {
    await page.reload();
    const rows = page.locator('tbody tr', { hasText: id });
    return (await rows.count()) === 1 && /delivered[\s\S]*200/.test((await rows.textContent()) ?? '');
  }, 'the retried delivery shown as delivered');
  expect(await page.getByRole('button', { name: `Retry ${id}` }).count()).toBe(0);
  await eventually(async () => {
    await page.goto(`${base}/console`);
    return (await page.locator('#sub-erp-sync td').nth(5).textContent()) === 'healthy';
  }, 'the subscription shown as healthy again');
  await page.goto(`${base}/console/subscriptions/erp-sync/deliveries`);
});

test('at 390 px the deliveries are cards: Status and the actions stay in view; no asset is missing', async () => {
  const missing: string[] = [];
  const onResponse = (r: { status(): number; url(): string }) => {
    if (r.status() === 404) missing.push(r.url());
  };
  page.on('response', onResponse);
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${base}/console/subscriptions/erp-sync/deliveries`);
    const card = page.locator('tbody tr').first();
    for (const part of [card.locator('.badge'), card.getByRole('link', { name: 'Web UI', exact: true })]) {
      const box = (await part.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    expect(await page.evaluate(() => (globalThis as unknown as { innerWidth: number }).innerWidth)).toBe(390);
    const scrollWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(scrollWidth).toBeLessThanOrEqual(390);
    await shot('deliveries-390px');
    await page.locator('tbody tr').first().getByRole('link', { name: 'Attempts', exact: true }).click();
    await page.locator('.attempt').first().waitFor();
    // The newest delivery is the one retried above: its 500 and, after Retry, its 200.
    await expect(page.locator('.attempt .http-status').allTextContents()).resolves.toEqual([
      'HTTP 200 OK',
      'HTTP 500 Internal Server Error',
    ]);
    await expect(page.locator('.attempt h3').first().textContent()).resolves.toContain('after Retry');
    const attemptsWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement
          .scrollWidth,
    );
    expect(attemptsWidth).toBeLessThanOrEqual(390);
    await shot('attempts-390px');
    await page.goto(`${base}/console`);
    await shot('subscriptions-390px');
  } finally {
    await page.setViewportSize({ width: 1366, height: 800 });
    page.off('response', onResponse);
  }
  expect(missing).toEqual([]);
  const favicon = await page.request.get(`${base}/console/favicon.svg`);
  expect(favicon.status()).toBe(200);
  expect(favicon.headers()['content-type']).toBe('image/svg+xml');
});

test('an unknown address is a page of the console; a form posted after the session ended returns to its page', async () => {
  const notFound = await page.goto(`${base}/console/subscriptions/erp-sync/no-such-page`);
  expect(notFound?.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Page not found');
  await expect(page.getByRole('link', { name: 'Subscriptions', exact: true }).count()).resolves.toBe(1);

  await page.goto(`${base}/console/subscriptions/erp-sync/deliveries`);
  const before = receiver.requestsTo('/hook').length;
  // The session ends while the page is open (as after 8 hours, or a restart of the API).
  await context.clearCookies({ name: 'hookflow_console' });
  await page.getByRole('button', { name: 'Test', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');
  await expect(page.getByRole('status').textContent()).resolves.toContain('Your session ended');
  expect(receiver.requestsTo('/hook').length).toBe(before);
  await fill('Admin token', ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console/subscriptions/erp-sync/deliveries`);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toMatch(/^Deliveries of /);
});

test('links lead to the Temporal Web UI, filtered by HookflowSubscription', async () => {
  const href = (await page.locator('#web-ui-list').getAttribute('href'))!;
  const link = new URL(href);
  expect(link.origin).toBe(new URL(uiUrl).origin);
  expect(link.pathname).toBe('/namespaces/default/workflows');
  expect(link.searchParams.get('query')).toBe(
    `WorkflowType = 'deliveryWorkflow' AND HookflowSubscription = 'erp-sync'`,
  );
  const rowLink = (await page.getByRole('link', { name: 'Web UI', exact: true }).first().getAttribute('href'))!;
  expect(rowLink).toMatch(new RegExp(`^${uiUrl}/namespaces/default/workflows/delivery%2F`));
  const response = await page.goto(href);
  expect(response?.status()).toBe(200);
  // The Web UI (a single-page app) lists this subscription's deliveries, found by the query in the link.
  await page
    .getByText(/delivery\/test\//)
    .first()
    .waitFor({ timeout: 30_000 });
  await shot('web-ui');
});

test('delete asks for confirmation; signing out ends the session and the old cookie is refused', async () => {
  await page.goto(`${base}/console`);
  await page.locator('#sub-erp-sync').getByRole('link', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Delete erp-sync' }).click();
  await page.waitForURL(/done=Deleted/);
  expect(await page.locator('#sub-erp-sync').count()).toBe(0);

  const session = (await context.cookies()).find((c) => c.name === 'hookflow_console')!;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${base}/console/login`);
  await page.goto(`${base}/console`);
  expect(new URL(page.url()).pathname).toBe('/console/login');
  // The cookie from before signing out no longer opens anything.
  await context.addCookies([session]);
  await page.goto(`${base}/console/subscriptions/new`);
  expect(new URL(page.url()).pathname).toBe('/console/login');
  const refused = await fetch(`${base}/console`, {
    headers: { cookie: `hookflow_console=${session.value}` },
    redirect: 'manual',
  });
  expect(refused.status).toBe(303);
});
