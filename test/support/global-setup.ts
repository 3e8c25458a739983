import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer, type DevServer } from '../../src/stack/dev-server';
import { temporalCliPath } from '../../src/stack/temporal-cli';
import { FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';

/**
 * One real Temporal server and one workflow bundle for the whole run: a dev server (in memory, on
 * loopback) unless HOOKFLOW_TEST_TEMPORAL_ADDRESS names a running server with hookflow's search
 * attributes (scripts/test-on-postgres.sh runs the suite against Temporal on PostgreSQL that way).
 */
export default async function globalSetup(): Promise<void> {
  const cli = temporalCliPath();
  process.env.TEMPORAL_CLI = cli;
  if (!process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS) {
    const server: DevServer = await startDevServer({ cli, headless: true });
    process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS = server.address;
    (globalThis as { __hookflowDevServer?: DevServer }).__hookflowDevServer = server;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-test-'));
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: quietLogger,
  });
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.HOOKFLOW_TEST_BUNDLE = bundlePath;
}

const noop = () => undefined;
const quietLogger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: (message: string) => process.stderr.write(`${message}\n`),
  log: noop,
};
