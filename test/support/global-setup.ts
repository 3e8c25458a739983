import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../src/stack/dev-server';
import { temporalCliPath } from '../../src/stack/temporal-cli';

/** One real Temporal dev server (in memory, loopback) and one workflow bundle for the whole run. */
export default async function globalSetup(): Promise<void> {
  const cli = temporalCliPath();
  const server: DevServer = await startDevServer({ cli, headless: true });
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-test-'));
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger });
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  process.env.TEMPORAL_CLI = cli;
  process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.HOOKFLOW_TEST_BUNDLE = bundlePath;
  (globalThis as { __hookflowDevServer?: DevServer }).__hookflowDevServer = server;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (message: string) => process.stderr.write(`${message}\n`), log: noop };
