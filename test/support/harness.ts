import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildApp, type HookflowApp } from '../../src/api/app';
import { parseConfig } from '../../src/config/load';
import type { HookflowConfig } from '../../src/config/schema';
import { startTracing, type Tracing } from '../../src/observability/tracing';
import { bundleWorkflows } from '../../src/temporal/bundle-workflows';
import { tracingClientInterceptors } from '../../src/temporal/client';
import { dataConverterFor } from '../../src/temporal/data-converter';
import { startWorker, type RunningWorker } from '../../src/worker';
import { FakeHttpPeer } from './fake-http';

// Workers log at ERROR in tests: many tests make deliveries fail on purpose, and each failed attempt is a WARN.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed by an earlier test file in this process
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export function testTemporalAddress(): string {
  const address = process.env.HOOKFLOW_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('HOOKFLOW_TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (globalSetup)');
  return address;
}

/**
 * Config from YAML, pointed at the test server and a task queue of its own (test files do not share
 * workers), with a fresh encryption key, the admin token and a loopback allowlist (the fake peers listen
 * on 127.0.0.1; the SSRF guard refuses loopback otherwise) unless the YAML sets them.
 */
export function testConfig(yaml: string, env: NodeJS.ProcessEnv = {}): HookflowConfig {
  const defaults = [
    /^security:/m.test(yaml)
      ? ''
      : `security: { encryptionKeys: [{ id: test1, key: "${randomBytes(32).toString('base64')}" }] }`,
    /^admin:/m.test(yaml) ? '' : `admin: { token: ${ADMIN_TOKEN} }`,
    /^network:/m.test(yaml) ? '' : 'network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }',
    // No fixed metrics port (test workers would share it); quiet routine logs.
    /^metrics:/m.test(yaml) ? '' : 'metrics: { workerPort: 0 }',
    /^logging:/m.test(yaml) ? '' : 'logging: { level: warn }',
  ].join('\n');
  return parseConfig(
    `${defaults}\n${yaml}`,
    { ...env, TEMPORAL_ADDRESS: testTemporalAddress(), HOOKFLOW_TASK_QUEUE: `test-${randomUUID()}` },
    'test config',
  );
}

export interface Harness {
  config: HookflowConfig;
  client: Client;
  app: HookflowApp;
  worker?: RunningWorker;
  /** With `otelEnv` naming an OTLP endpoint: the process's tracing (API and worker share it). */
  tracing?: Tracing;
  stop(): Promise<void>;
}

/**
 * The real thing, in-process: Temporal client + API (used through app.inject) + the production worker on
 * its own task queue. `otelEnv`: the OTEL_* variables the API and the worker read (tracing; the workflows
 * are then bundled again, with the OpenTelemetry workflow interceptors).
 */
export async function startHarness(
  config: HookflowConfig,
  options: { worker?: boolean; otelEnv?: NodeJS.ProcessEnv } = {},
): Promise<Harness> {
  const tracing = options.otelEnv ? startTracing(options.otelEnv) : undefined;
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
    interceptors: tracingClientInterceptors(tracing),
  });
  const app = await buildApp({ config, client, tracing });
  const workflowBundle = tracing
    ? await bundleWorkflows(require.resolve('../../src/workflows'), dataConverterFor(config), { tracing: true })
    : { codePath: process.env.HOOKFLOW_TEST_BUNDLE! };
  const worker =
    options.worker === false
      ? undefined
      : await startWorker(config, { workflowBundle, otelEnv: options.otelEnv ?? {} });
  return {
    config,
    client,
    app,
    worker,
    tracing,
    async stop() {
      await app.close();
      await worker?.shutdown();
      await connection.close();
      await tracing?.close();
    },
  };
}

/** `delivery:` with fast `one-day` retries (0.2 s doubling to 1 s, for 2 minutes): failures retry within a test. */
export const FAST_RETRIES = `delivery:
  oneDay: { initialInterval: PT0.2S, backoffCoefficient: 2, maximumInterval: PT1S, window: PT2M }`;

/** A harness with `yaml` and a loopback receiver answering 200 (other answers per path: `receiver.on`). */
export async function startWithReceiver(yaml: string): Promise<{ h: Harness; receiver: FakeHttpPeer }> {
  const receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  return { receiver, h: await startHarness(testConfig(yaml)) };
}

/** Stops what startWithReceiver started (either may be missing when the start failed). */
export async function stopWithReceiver(stack: { h?: Harness; receiver?: FakeHttpPeer }): Promise<void> {
  await stack.h?.stop();
  await stack.receiver?.stop();
}

/** Polls `check` until it returns a value (not undefined/false) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
