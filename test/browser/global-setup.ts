import { startDevServer, type DevServer } from '../../src/stack/dev-server';
import { temporalCliPath } from '../../src/stack/temporal-cli';
import sharedSetup from '../support/global-setup';

/**
 * As the main suite's set-up, but the dev server serves its Web UI too (the console links to it), and
 * the browser tests get its URL in HOOKFLOW_TEST_WEB_UI_URL. The shared teardown stops it.
 */
export default async function globalSetup(): Promise<void> {
  const server: DevServer = await startDevServer({ cli: temporalCliPath() });
  process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.HOOKFLOW_TEST_WEB_UI_URL = server.uiUrl;
  (globalThis as { __hookflowDevServer?: DevServer }).__hookflowDevServer = server;
  await sharedSetup();
}
