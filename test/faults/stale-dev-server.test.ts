import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort } from '../../src/observability/free-port';
import { processIdentity, stopStaleDevServer, type DevServerRecord } from '../../src/stack/stale-dev-server';
import { FakeHttpPeer } from '../support/fake-http';
import { createSubscriptionOverHttp } from './support/admin';
import { HookflowProcess, waitHealthy, waitUntil } from './support/processes';
import { extendWebhook, postOnce } from './support/source';

/**
 * `npm start` (src/stack/start.ts: dev server on a SQLite file in the data directory, worker and API in
 * one process) SIGKILLed, then started again on the same data directory and ports: it must come up and
 * serve webhooks, not fail with "address already in use" on the dev server's port.
 * - the plain case: the dev server's watchdog stops it when its parent dies;
 * - the dev server left running with no watchdog (its shell and watcher SIGKILLed too, as a start
 *   before this fix left it): the next start finds it through `<dataDir>/dev-server.json` and stops it;
 * - a second start while the first runs is refused, and the first one's dev server is left alone.
 */

const ADMIN_TOKEN = 'stale-admin-token-0123456789';
const SOURCE_SECRET = 'stale-source-secret';

let dir: string;
let receiver: FakeHttpPeer;
let env: Record<string, string>;
let apiUrl: string;
const stacks: HookflowProcess[] = [];
let pool: Pool;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookflow-stale-dev-server-'));
  receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  pool = new Pool(apiUrl);
  const configFile = join(dir, 'hookflow.yaml');
  writeFileSync(
    configFile,
    `
security: { encryptionKeys: [{ id: k1, key: "${randomBytes(32).toString('base64')}" }] }
admin: { token: ${ADMIN_TOKEN} }
network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }
metrics: { workerPort: 0 }
temporal: { address: "127.0.0.1:${temporalPort}", namespace: default, taskQueue: stale-dev-server }
sources:
  - { id: erp, kind: extend-commerce, secret: ${SOURCE_SECRET} }
`,
  );
  // TEMPORAL_ADDRESS empty: start.ts starts its own dev server (as `npm start` does).
  env = {
    HOOKFLOW_CONFIG: configFile,
    HOOKFLOW_DATA_DIR: join(dir, 'data'),
    PORT: String(apiPort),
    HOOKFLOW_HOST: '127.0.0.1',
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_ADDRESS: '',
    LOG_LEVEL: 'warn',
  };
});

afterAll(async () => {
  for (const stack of stacks) await stack.stop();
  // A failed test may have left a dev server it orphaned on purpose: stop it the way a start would.
  await stopStaleDevServer(join(dir, 'data', 'dev-server.json'), join(dir, 'data', 'temporal.sqlite'), 5000).catch(
    () => undefined,
  );
  await pool?.close();
  await receiver?.stop();
  if (!process.env.HOOKFLOW_KEEP_FAULT_LOGS) rmSync(dir, { recursive: true, force: true });
});

function newStack(): HookflowProcess {
  const stack = new HookflowProcess('stack', env, join(dir, `stack-${stacks.length + 1}.log`));
  stacks.push(stack);
  return stack;
}

async function startStack(): Promise<HookflowProcess> {
  const stack = newStack();
  stack.start();
  await stack.waitForOutput(/hookflow is running/);
  await waitHealthy(apiUrl);
  return stack;
}

const record = (): DevServerRecord =>
  JSON.parse(readFileSync(join(dir, 'data', 'dev-server.json'), 'utf8')) as DevServerRecord;

/** Members of a process group, from /proc (this test runs on Linux). */
function groupMembers(pgid: number): Array<{ pid: number; comm: string }> {
  const members: Array<{ pid: number; comm: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z')
        members.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/** A webhook goes in (202) and comes out at the subscriber: the restarted stack serves end to end. */
async function expectServesAWebhook(): Promise<void> {
  const subscriptionId = `sub-${randomUUID().slice(0, 8)}`;
  await createSubscriptionOverHttp(apiUrl, ADMIN_TOKEN, {
    id: subscriptionId,
    url: `${receiver.url}/${subscriptionId}`,
    secret: 'receiver-secret-0123456789',
    triggers: ['extend-commerce.*'],
  });
  const outcome = await postOnce(pool, apiUrl, '/webhooks/erp', extendWebhook(SOURCE_SECRET, randomUUID()));
  expect(outcome.status).toBe(202);
  await waitUntil(
    () => receiver.requestsTo(`/${subscriptionId}`).length > 0,
    'the webhook to reach the subscriber',
    120_000,
  );
}

test('SIGKILLed npm start: its dev server stops with it, and the next start on the same data directory serves', async () => {
  const first = await startStack();
  const { server } = record();
  expect(groupMembers(server.pid).length).toBeGreaterThan(0);

  await first.kill(); // SIGKILL, only the process this test started
  // The watchdog stops the dev server (SIGTERM, SIGKILL after 10 s): nothing of its group is left.
  await waitUntil(() => groupMembers(server.pid).length === 0, 'the orphaned dev server to stop', 60_000);

  await startStack();
  await expectServesAWebhook();
});

test('a dev server left running without its watchdog is stopped by the next start', async () => {
  const previous = stacks.at(-1)!;
  const { server } = record();
  const members = groupMembers(server.pid);
  expect(members.some((m) => m.comm === 'temporal')).toBe(true);
  // Leave the dev server as a start from before the watchdog did: SIGKILL the watchdog shell and its
  // watcher, then the stack (all started by this test), not the temporal server.
  for (const m of members.filter((m) => m.comm !== 'temporal')) process.kill(m.pid, 'SIGKILL');
  await waitUntil(
    () => groupMembers(server.pid).every((m) => m.comm === 'temporal'),
    'only the dev server to be left',
    10_000,
  );
  await previous.kill();
  const orphan = groupMembers(server.pid).find((m) => m.comm === 'temporal')!;
  const orphanIdentity = processIdentity(orphan.pid);
  expect(orphanIdentity).toBeDefined();

  const next = await startStack();
  expect(processIdentity(orphan.pid)?.started).not.toBe(orphanIdentity!.started); // stopped, not reused
  expect(next.tail()).toMatch(/stopped the dev server a previous start left running/);
  await expectServesAWebhook();
});

test('a second start on a data directory in use is refused and leaves the running one alone', async () => {
  const running = stacks.at(-1)!;
  const { server } = record();
  const second = newStack();
  second.start();
  await waitUntil(() => !second.running, 'the second start to exit', 60_000);
  expect(second.tail()).toMatch(/already running on this data directory \(pid \d+/);
  expect(running.running).toBe(true);
  expect(record().server).toEqual(server);
  await expectServesAWebhook();
});
