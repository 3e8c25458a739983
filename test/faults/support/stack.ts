import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/observability/free-port';
import { FakeHttpPeer, type Responder } from '../../support/fake-http';
import { createSubscriptionOverHttp } from './admin';
import { HookflowProcess, waitHealthy } from './processes';
import { temporalForFaults, type TemporalUnderTest } from './temporal-tier';

export const SOURCE_ID = 'erp';
export const SOURCE_SECRET = 'fault-source-secret';
export const RECEIVER_SECRET = 'fault-receiver-secret';
export const ADMIN_TOKEN = 'fault-admin-token-0123456789';
/** The worker logs this once it polls its task queue (LOG_LEVEL=info). */
const WORKER_RUNNING = /"state":"RUNNING"/;

/**
 * hookflow as it runs in production, for the fault tests: Temporal (dev server on a SQLite file, or
 * PostgreSQL), the API and N workers as separate `node` processes, and a receiver subscribed to every
 * Extend event with the `one-day` policy (short intervals, so redeliveries happen within the test).
 */
export interface FaultStack {
  dir: string;
  temporal: TemporalUnderTest;
  api: HookflowProcess;
  workers: HookflowProcess[];
  apiUrl: string;
  receiver: FakeHttpPeer;
  /** Starts a process again (or for the first time) and waits until it is ready. */
  restart(process: HookflowProcess): Promise<void>;
  /** Prints where the logs are and the last lines of every process: call it when `what` failed. */
  reportFailure(what: string): void;
  stop(): Promise<void>;
}

export interface FaultStackOptions {
  /** Names the task queue and the temporary directory. */
  name: string;
  workers?: number;
  receiver: Responder;
  /** More YAML under `server:` (e.g. a shorter ackTimeout). */
  server?: string;
  /** More fields of the receiver's subscription (e.g. `maxInFlight`). */
  subscription?: Record<string, unknown>;
}

export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const dir = mkdtempSync(join(tmpdir(), `hookflow-${options.name}-`));
  // The Temporal server's own output (warnings and up), kept with its state for diagnosis.
  const temporal = await temporalForFaults(dir, (line) => appendFileSync(join(dir, 'temporal.log'), `${line}\n`));
  const receiver = await new FakeHttpPeer(options.receiver).start();
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const configFile = join(dir, 'hookflow.yaml');
  writeFileSync(
    configFile,
    `
security: { encryptionKeys: [{ id: k1, key: "${randomBytes(32).toString('base64')}" }] }
admin: { token: ${ADMIN_TOKEN} }
network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }
# No worker /metrics: a killed worker's port must not be what stops the next one.
metrics: { workerPort: 0 }
server:
  # Far above what these tests send: a 429 would measure the limiter, not recovery.
  rateLimit: { max: 1000000 }
${(options.server ?? '').replace(/^/gm, '  ')}
delivery: { oneDay: { initialInterval: PT0.5S, maximumInterval: PT2S, window: PT15M } }
sources:
  - { id: ${SOURCE_ID}, kind: extend-commerce, secret: ${SOURCE_SECRET} }
`,
  );
  const env = {
    HOOKFLOW_CONFIG: configFile,
    TEMPORAL_ADDRESS: temporal.address,
    PORT: String(port),
    HOOKFLOW_HOST: '127.0.0.1',
    HOOKFLOW_TASK_QUEUE: options.name,
  };
  // info for workers: their RUNNING line is the readiness signal. warn for the API: not a line per request.
  const workers = Array.from(
    { length: options.workers ?? 1 },
    (_, i) => new HookflowProcess('worker', { ...env, LOG_LEVEL: 'info' }, join(dir, `worker-${i + 1}.log`)),
  );
  const api = new HookflowProcess('api', { ...env, LOG_LEVEL: 'warn' }, join(dir, 'api.log'));

  const restart = async (p: HookflowProcess) => {
    p.start();
    await (p === api ? waitHealthy(apiUrl) : p.waitForOutput(WORKER_RUNNING));
  };
  /** The last lines of every process. */
  const tails = () => [api, ...workers].map((p, i) => `--- ${i ? `worker ${i}` : 'api'} ---\n${p.tail()}`).join('\n');
  const stack: FaultStack = {
    dir,
    temporal,
    api,
    workers,
    apiUrl,
    receiver,
    restart,
    reportFailure: (what) =>
      console.log(`[faults] ${what} failed; logs in ${dir} (set HOOKFLOW_KEEP_FAULT_LOGS=1 to keep them)\n${tails()}`),
    async stop() {
      await api.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await temporal.release();
      await receiver.stop();
      if (!process.env.HOOKFLOW_KEEP_FAULT_LOGS) rmSync(dir, { recursive: true, force: true });
    },
  };
  await Promise.all([api, ...workers].map(restart));
  await createSubscriptionOverHttp(apiUrl, ADMIN_TOKEN, {
    id: `${options.name}-receiver`,
    url: `${receiver.url}/hook`,
    secret: RECEIVER_SECRET,
    triggers: ['extend-commerce.*'],
    retryPolicy: 'one-day',
    signature: 'x-signature',
    connectionTimeout: 'PT5S',
    ...options.subscription,
  });
  return stack;
}
