import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parseConfig } from '../src/config/load';
import type { HookflowConfig } from '../src/config/schema';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/stack/dev-server';
import { temporalCliPath } from '../src/stack/temporal-cli';
import { dataConverterFor } from '../src/temporal/data-converter';

/**
 * The stack the scenario benches (throttle, hostile expression, admin reads) run against: a Temporal
 * server (a dev server of its own, or BENCH_TEMPORAL_ADDRESS: bench/on-postgres.sh), hookflow's worker
 * as a child process (its RSS and CPU are its own), and a client for the bench itself.
 */

/** A child process running one of hookflow's entry points (relative to bench/), killed with this process. */
export function child(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const proc = fork(resolve(__dirname, script), { env, execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  process.once('exit', () => proc.kill('SIGKILL'));
  return proc;
}

export interface BenchTemporal {
  /** `dev`, or `postgres` (BENCH_TIER) against an external server. */
  tier: string;
  address: string;
  /** The Temporal server's pid when known (the dev server's, or BENCH_SERVER_PID). */
  pid?: number;
  stop(): Promise<void>;
}

/** The Temporal server; stopped when this process exits (also on SIGINT/SIGTERM). */
export async function startBenchTemporal(): Promise<BenchTemporal> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const external = process.env.BENCH_TEMPORAL_ADDRESS;
  const tier = process.env.BENCH_TIER ?? (external ? 'postgres' : 'dev');
  const server: { address: string; stop(): Promise<void>; process?: { pid?: number } } = external
    ? { address: external, stop: async () => undefined }
    : await startDevServer({ cli: temporalCliPath(), headless: true, dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG });
  process.once('exit', () => void server.stop());
  const pid = Number(process.env.BENCH_SERVER_PID ?? server.process?.pid ?? 0) || undefined;
  return { tier, address: server.address, pid, stop: () => server.stop() };
}

export interface BenchStack {
  temporal: BenchTemporal;
  config: HookflowConfig;
  /** The environment the worker runs with (HOOKFLOW_CONFIG, TEMPORAL_ADDRESS, the task queue). */
  env: NodeJS.ProcessEnv;
  worker: ChildProcess;
  client: Client;
  /** Stops the worker, the client and the Temporal server. */
  stop(): Promise<void>;
}

/**
 * Temporal, and hookflow's worker on `taskQueue` with the config `yaml` (an encryption key, loopback
 * network and `metrics: { workerPort: 0 }` added unless given), ready once the worker runs.
 */
export async function startBenchStack(name: string, taskQueue: string, yaml: string): Promise<BenchStack> {
  const temporal = await startBenchTemporal();
  const full = [
    /^security:/m.test(yaml)
      ? ''
      : `security: { encryptionKeys: [{ id: k1, key: "${randomBytes(32).toString('base64')}" }] }`,
    /^network:/m.test(yaml) ? '' : 'network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }',
    /^metrics:/m.test(yaml) ? '' : 'metrics: { workerPort: 0 }',
    yaml,
  ].join('\n');
  const configFile = join(mkdtempSync(join(tmpdir(), `hookflow-${name}-`)), 'config.yaml');
  writeFileSync(configFile, full);
  // LOG_LEVEL error: failed attempts are often the point of a bench; logging each would drown the output.
  const env = {
    ...process.env,
    HOOKFLOW_CONFIG: configFile,
    TEMPORAL_ADDRESS: temporal.address,
    HOOKFLOW_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'error',
  };
  const config = parseConfig(full, env, `${name} bench`);
  const worker = child('worker.ts', env);
  await new Promise<void>((ok, fail) => {
    worker.once('message', () => ok());
    worker.once('exit', (code) => fail(new Error(`worker exited with ${code}`)));
  });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
  });
  return {
    temporal,
    config,
    env,
    worker,
    client,
    async stop() {
      if (worker.exitCode === null) {
        worker.kill('SIGTERM');
        await new Promise((r) => worker.once('exit', r));
      }
      await connection.close();
      await temporal.stop();
    },
  };
}

/** Writes a bench's results to bench/results/<bench>-<tier>-<time>.json and returns the file. */
export function writeResults(bench: string, tier: string, results: unknown): string {
  const dir = resolve(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${bench}-${tier}-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${file}`);
  return file;
}
