import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { ADMIN_TOKEN, type Harness } from './harness';

export interface ConsoleInBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The API's loopback address, `http://127.0.0.1:<port>`. */
  base: string;
}

/**
 * Serves the harness's app on a loopback port and opens Debian's Chromium on it: a laptop-sized window
 * (options may change it), signed in to the console unless `signIn` is false.
 */
export async function openConsole(
  h: Harness,
  { signIn = true, context: contextOptions = {} }: { signIn?: boolean; context?: BrowserContextOptions } = {},
): Promise<ConsoleInBrowser> {
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const context = await browser.newContext({
    viewport: { width: 1366, height: 800 },
    locale: 'en-GB',
    ...contextOptions,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  if (signIn) {
    await page.goto(`${base}/console/login`);
    await page.getByLabel('Admin token', { exact: true }).fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console`);
  }
  return { browser, context, page, base };
}
