import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../src/observability/free-port';
import { startDevServer, type DevServer } from '../../../src/stack/dev-server';
import { cliPath } from './processes';

const run = promisify(execFile);
const PROD = resolve(__dirname, '../../../scripts/prod');

/**
 * The Temporal server a fault test runs against, and can stop and start again with its state kept:
 * - `dev`: the CLI's dev server on a SQLite file of the test's own (the default);
 * - `postgres`: Temporal server 1.29.1 on PostgreSQL, already running, set up by
 *   scripts/test-on-postgres.sh, which names its data directory in HOOKFLOW_FAULTS_PG_DATA.
 */
export interface TemporalUnderTest {
  tier: 'dev' | 'postgres';
  address: string;
  /** SIGTERM, then waits until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same address and state; resolves once its frontend serves. */
  start(): Promise<void>;
  /** Leaves it as the test found it (the PostgreSQL tier keeps running for the next test file). */
  release(): Promise<void>;
  /** How the last stop ended, for the report. */
  lastStop?: string;
}

export async function temporalForFaults(dir: string, log?: (line: string) => void): Promise<TemporalUnderTest> {
  const pgData = process.env.HOOKFLOW_FAULTS_PG_DATA;
  if (pgData) {
    const address = process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS;
    if (!address) throw new Error('HOOKFLOW_FAULTS_PG_DATA is set but HOOKFLOW_TEST_TEMPORAL_ADDRESS is not');
    let running = true;
    const script = async (name: string, ...args: string[]) => {
      const { stderr } = await run('bash', [resolve(PROD, name), ...args], { maxBuffer: 16 * 1024 * 1024 });
      for (const line of stderr.split('\n').filter(Boolean)) log?.(line);
    };
    const tier: TemporalUnderTest = {
      tier: 'postgres',
      address,
      async stop() {
        await script('stop-temporal-postgres.sh', '--temporal-only', pgData);
        running = false;
        tier.lastStop = 'stop-temporal-postgres.sh --temporal-only';
      },
      async start() {
        await script('restart-temporal.sh', pgData);
        running = true;
      },
      async release() {
        if (!running) await tier.start();
      },
    };
    return tier;
  }

  const port = await freePort();
  const dbFile = resolve(dir, 'temporal.sqlite');
  let server: DevServer | undefined = await startDevServer({ cli: cliPath(), headless: true, port, dbFile, log });
  const tier: TemporalUnderTest = {
    tier: 'dev',
    address: server.address,
    async stop() {
      const current = server!;
      await current.stop();
      server = undefined;
      tier.lastStop = `exit code ${current.process.exitCode}, signal ${current.process.signalCode}`;
    },
    async start() {
      server = await startDevServer({ cli: cliPath(), headless: true, port, dbFile, log });
    },
    async release() {
      await server?.stop();
    },
  };
  return tier;
}
