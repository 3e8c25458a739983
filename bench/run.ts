import { fork } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Agent, request } from 'undici';
import { startApi } from '../src/api/server';
import { parseConfig } from '../src/config/load';
import { dataConverterFor } from '../src/temporal/data-converter';
import { freePort } from '../src/observability/free-port';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/stack/dev-server';
import { temporalCliPath } from '../src/stack/temporal-cli';
import { FakeHttpPeer } from '../test/support/fake-http';
import {
  cpuPercent,
  idlePercent,
  machineTicks,
  perEvent,
  persistenceCounters,
  runConcurrent,
  sampleProcess,
  sampleProcesses,
  summarize,
} from './stats';

/**
 * `npm run bench`: hookflow against raw Temporal on the same dev server in one run, all on loopback.
 * Sizes: BENCH_N (requests per level, default 300), BENCH_LEVELS (default 1,10,50),
 * BENCH_RESTING (deliveries parked in retry backoff, default 10000), BENCH_STORM (deliveries retried every
 * minute, default 2000), BENCH_MAX_CACHED_WORKFLOWS (the worker's workflow cache), BENCH_OPEN_N / BENCH_OPEN_LEVELS (open loop, default 500 at 1,10,50), BENCH_DB=file for SQLite persistence,
 * BENCH_TEMPORAL_ADDRESS to measure against a running server (e.g. the PostgreSQL tier), BENCH_DC (JSON of
 * dynamic config over hookflow's, to compare settings), BENCH_SQLITE_PRAGMAS, BENCH_WORKERS (worker
 * processes on the task queue, default 1), BENCH_LABEL (added to the results file's name).
 */
const N = Number(process.env.BENCH_N ?? 300);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,10,50').split(',').filter(Boolean).map(Number);
const RESTING = Number(process.env.BENCH_RESTING ?? 10_000);
const STORM = Number(process.env.BENCH_STORM ?? 2_000);
const OPEN_N = Number(process.env.BENCH_OPEN_N ?? 500);
const OPEN_LEVELS = (process.env.BENCH_OPEN_LEVELS ?? '1,10,50').split(',').filter(Boolean).map(Number);
const OPEN_TEN = process.env.BENCH_OPEN_TEN !== '0'; // the open loop with 10 subscriptions
const FAN_OUT = process.env.BENCH_FANOUT !== '0';
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
// BENCH_FOLLOW_UP=1: each OrderCreated fetches its order from a source API on loopback, as Extend's do.
const FOLLOW_UP = process.env.BENCH_FOLLOW_UP === '1';
const SOURCE_SECRET = 'bench-source-secret';
const EventType = temporal.api.enums.v1.EventType;
const ADMIN = 'bench-admin-token-0123456789';

async function main() {
  // Interrupted: exit through process.exit so the exit hooks stop the dev server and the worker.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const results: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    n: N,
    levels: LEVELS,
    resting: RESTING,
    cpus: (await import('node:os')).cpus().length,
    workers: WORKERS,
    // Set by bench/on-postgres.sh for the PostgreSQL tier (the dev server has one shard).
    historyShards: Number(process.env.HOOKFLOW_HISTORY_SHARDS ?? 1),
    followUp: FOLLOW_UP,
  };
  // BENCH_TEMPORAL_ADDRESS: a running server with hookflow's search attributes (the PostgreSQL tier of
  // scripts/prod), used by nothing else meanwhile; otherwise a dev server of the bench's own.
  const external = process.env.BENCH_TEMPORAL_ADDRESS;
  const dbFile =
    process.env.BENCH_DB === 'file'
      ? join(mkdtempSync(join(tmpdir(), 'hookflow-bench-')), 'temporal.sqlite')
      : undefined;
  let metricsPort: number | undefined;
  const server: { address: string; stop(): Promise<void>; process?: { pid?: number } } = external
    ? { address: external, stop: async () => undefined }
    : await startDevServer({
        cli: temporalCliPath(),
        headless: true,
        dbFile,
        sqlitePragmas: benchPragmas(),
        dynamicConfig: { ...DEV_SERVER_DYNAMIC_CONFIG, ...JSON.parse(process.env.BENCH_DC ?? '{}') },
        metricsPort: (metricsPort = await freePort()),
      });
  // Where the CPU goes: the Temporal server (BENCH_SERVER_PID for an external one), the worker, and this
  // process (the API and the load generator).
  const serverMetrics =
    process.env.BENCH_SERVER_METRICS ?? (metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : undefined);
  const serverPid = Number(process.env.BENCH_SERVER_PID ?? server.process?.pid ?? 0) || undefined;
  results.maxCachedWorkflows = process.env.BENCH_MAX_CACHED_WORKFLOWS ?? 'default (config)';
  results.persistence = external
    ? `external server at ${external}`
    : dbFile
      ? 'dev server, sqlite file'
      : 'dev server, in-memory sqlite';
  const receiver = await new FakeHttpPeer(() => ({ status: 200 })).start();
  const sourceApi = await new FakeHttpPeer(() => ({ status: 200, body: { order: 'bench', lines: 2 } })).start();
  const followUp = FOLLOW_UP ? `, followUp: { urls: { OrderCreated: "${sourceApi.url}/orders/{OrderNumber}" } }` : '';
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  receiver.on('/deliveries', (r) => {
    const key = `${r.headers['x-hookflow-event-id']}|${r.url}`;
    arrivals.set(key, performance.now());
    waiters.get(key)?.();
    return { status: 200 };
  });
  const arrival = (key: string) =>
    arrivals.has(key) ? Promise.resolve() : new Promise<void>((ok) => waiters.set(key, ok));
  // Parked: the next attempt an hour away (Retry-After is honoured up to the policy's maximum interval).
  receiver.on('/failing', () => ({ status: 503, headers: { 'retry-after': '3600' } }));
  // Retry storm: every delivery retried each minute.
  receiver.on('/storm', () => ({ status: 503, headers: { 'retry-after': '60' } }));

  const yaml = `
security: { encryptionKeys: [{ id: k1, key: "${randomBytes(32).toString('base64')}" }] }
admin: { token: ${ADMIN} }
network: { allow: ["127.0.0.0/8", "::1/128", "localhost"] }
server: { port: ${await freePort()}, rateLimit: { max: 100000000, window: PT1M } }
metrics: { workerPort: 0 }
sources: [{ id: src, kind: extend-commerce, secret: ${SOURCE_SECRET}${followUp} }]
${process.env.BENCH_MAX_CACHED_WORKFLOWS ? `temporal: { maxCachedWorkflows: ${Number(process.env.BENCH_MAX_CACHED_WORKFLOWS)} }` : ''}
`;
  const configFile = join(mkdtempSync(join(tmpdir(), 'hookflow-bench-cfg-')), 'config.yaml');
  writeFileSync(configFile, yaml);
  // LOG_LEVEL error: failed attempts are expected here (resting cost); logging each would drown the output.
  const env = {
    ...process.env,
    HOOKFLOW_CONFIG: configFile,
    TEMPORAL_ADDRESS: server.address,
    HOOKFLOW_TASK_QUEUE: 'bench',
    LOG_LEVEL: 'error',
  };
  const config = parseConfig(yaml, env);

  // BENCH_WORKER_PROF=<dir>: a V8 CPU profile of the worker (main thread and workflow threads), written at its exit.
  const profile = process.env.BENCH_WORKER_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_PROF}`]
    : [];
  const workers = Array.from({ length: WORKERS }, () =>
    fork(resolve(__dirname, 'worker.ts'), { env, execArgv: ['--import', 'tsx', ...profile], stdio: 'inherit' }),
  );
  process.once('exit', () => workers.forEach((w) => w.kill('SIGKILL'))); // never leave a child behind on a failure
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((ok, fail) => {
          w.once('message', () => ok());
          w.once('exit', (code) => fail(new Error(`bench worker exited with ${code}`)));
        }),
    ),
  );
  // The worker processes together: RSS and CPU summed.
  const sampleWorkers = () => sampleProcesses(workers.map((w) => w.pid!));
  const api = await startApi(config, { level: 'warn' });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: dataConverterFor(config) });
  const http = new Agent({ connections: 128, keepAliveTimeout: 30_000 });

  const adminCall = async (method: 'POST' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(`${api.url}${path}`, {
      method,
      dispatcher: http,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const subscribe = (id: string, path: string, triggers: string[], retryPolicy = 'one-day') =>
    adminCall('POST', '/api/subscriptions', {
      id,
      name: id,
      contactEmail: 'bench@example.com',
      url: `${receiver.url}${path}`,
      secret: 'sub-secret',
      triggers,
      retryPolicy,
      signature: 'x-signature',
    });
  const waitListed = async (count: number) => {
    for (;;) {
      const list = await request(`${api.url}/api/subscriptions`, {
        dispatcher: http,
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      if ((JSON.parse(await list.body.text()).subscriptions as unknown[]).length >= count) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const postWebhook = async (notificationId: string, action = 'OrderCreated') => {
    const details =
      action === 'ProductCreated'
        ? { ProductNumber: notificationId.slice(0, 8) }
        : { OrderNumber: notificationId.slice(0, 8) };
    const body = JSON.stringify({
      Id: notificationId.replace(/-/g, ''),
      Attempt: 1,
      Properties: { NotificationId: notificationId },
      Notifications: [{ Action: action, Details: details }],
    });
    const signature = `sha256=${createHmac('sha256', SOURCE_SECRET).update(body).digest('hex').toUpperCase()}`;
    const res = await request(`${api.url}/webhooks/src`, {
      method: 'POST',
      dispatcher: http,
      headers: { 'content-type': 'application/json', 'ms-signature': signature },
      body,
    });
    await res.body.dump();
    if (res.statusCode !== 202) throw new Error(`webhook answered ${res.statusCode}`);
  };
  const waitFor = async (check: () => boolean, what: string, ms = 300_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`bench timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  // Each measurement starts on an idle worker: wait until the work the previous one started has finished.
  const drain = async () => {
    const query = "ExecutionStatus = 'Running' AND WorkflowType != 'subscriptionWorkflow'";
    for (;;) {
      const { count } = await client.workflow.count(query);
      if (count === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const table: Array<Record<string, unknown>> = [];
  const eventSteps: unknown[] = [];
  const row = (
    scenario: string,
    concurrency: number,
    run: { latencies: number[]; perSecond: number },
    unit = 'req/s',
  ) => {
    const entry = { scenario, concurrency, throughput: run.perSecond, unit, ...summarize(run.latencies) };
    table.push(entry);
    console.log(JSON.stringify(entry));
  };

  // Warm-up: bundles cached, connections open, code paths jitted.
  await runConcurrent(
    50,
    10,
    async () =>
      void (await client.workflow.execute('rawActivityWorkflow', { taskQueue: 'bench', workflowId: randomUUID() })),
  );
  await runConcurrent(50, 10, async () => postWebhook(randomUUID(), 'ProductCreated'));

  for (const c of LEVELS) {
    await drain();
    row(
      'raw start (client.workflow.start)',
      c,
      await runConcurrent(
        N,
        c,
        async () =>
          void (await client.workflow.start('rawNoopWorkflow', { taskQueue: 'bench', workflowId: randomUUID() })),
      ),
    );
    await drain();
    row(
      'hookflow ingest (signed Extend webhook -> 202)',
      c,
      await runConcurrent(N, c, async () => postWebhook(randomUUID(), 'ProductCreated')),
    );
  }

  // End to end: one subscription; latency from the source's POST to the subscriber receiving it.
  await subscribe('e2e', '/deliveries', ['extend-commerce.OrderCreated']);
  await waitListed(1);
  for (const c of LEVELS) {
    await drain();
    const rawPersistence0 = await persistenceCounters(serverMetrics);
    row(
      'raw workflow + 1 no-op activity (execute)',
      c,
      await runConcurrent(
        N,
        c,
        async () =>
          void (await client.workflow.execute('rawActivityWorkflow', { taskQueue: 'bench', workflowId: randomUUID() })),
      ),
      'wf/s',
    );
    // The yardstick for hookflow's persistencePerEvent: what one raw one-activity workflow costs.
    table[table.length - 1]!.persistencePerWorkflow = perEvent(
      rawPersistence0,
      await persistenceCounters(serverMetrics),
      N,
    );
    await drain();
    // Closed loop, like the raw `execute` above: each of the c senders posts, then waits for the
    // subscriber to receive that event before sending the next.
    const key = (id: string) => `src/${id}-0|/deliveries`;
    const ids: string[] = [];
    const run = await runConcurrent(N, c, async (i) => {
      const id = randomUUID();
      ids[i] = id;
      const delivered = arrival(key(id));
      await postWebhook(id);
      await delivered;
    });
    row('hookflow end to end (source POST -> subscriber receives)', c, run, 'events/s');
    // Where the time went: the median event's and the three slowest events' two workflows, step by step
    // (history timestamps).
    const byLatency = run.latencies.map((ms, i) => ({ ms, id: ids[run.order[i]!]! })).sort((a, b) => b.ms - a.ms);
    const examined = [
      { which: 'median', ...byLatency[Math.floor(byLatency.length / 2)]! },
      ...byLatency.slice(0, 3).map((e) => ({ which: 'slowest', ...e })),
    ];
    for (const { which, ms, id } of examined) {
      const steps = await timeline(client, [`inbound/src/${id}-0`, `delivery/src/${id}-0/e2e`]);
      eventSteps.push({ which, concurrency: c, e2eMs: Math.round(ms), steps });
      console.log(JSON.stringify({ event: id, which, concurrency: c, e2eMs: Math.round(ms), steps }));
    }
  }

  // Open loop (the load of /work/shared/peers, as run against Convoy): N signed events sent with C in
  // flight, each sender waiting only for the 202; the receiver records each arrival; e2e = arrival - send.
  const openLoop = async (label: string, n: number, c: number, urls: string[]) => {
    const sent = new Map<string, number>();
    const cpu0 = sampleWorkers();
    const server0 = serverPid ? sampleProcess(serverPid) : undefined;
    const self0 = { cpu: process.cpuUsage(), at: Date.now() };
    const persistence0 = await persistenceCounters(serverMetrics);
    const machine0 = machineTicks();
    const t0 = performance.now();
    const acks = await runConcurrent(n, c, async () => {
      const id = randomUUID();
      sent.set(id, performance.now());
      await postWebhook(id);
    });
    const tAcked = performance.now();
    const keys = [...sent.keys()].flatMap((id) => urls.map((u) => ({ id, key: `src/${id}-0|${u}` })));
    await waitFor(() => keys.every(({ key }) => arrivals.has(key)), `${label} deliveries`);
    const cpu1 = sampleWorkers();
    const server1 = serverPid ? sampleProcess(serverPid) : undefined;
    const self1 = process.cpuUsage(self0.cpu);
    const persistence = perEvent(persistence0, await persistenceCounters(serverMetrics), n);
    const machineIdlePercent = idlePercent(machine0, machineTicks());
    const e2e = keys.map(({ id, key }) => arrivals.get(key)! - sent.get(id)!);
    const last = Math.max(...keys.map(({ key }) => arrivals.get(key)!));
    const seconds = (Date.now() - self0.at) / 1000;
    const msPerEvent = (cpuSeconds: number) => Math.round((cpuSeconds * 1000 * 10) / n) / 10;
    const entry = {
      scenario: label,
      concurrency: c,
      events: n,
      subscriptions: urls.length,
      acceptedPerSecond: Math.round((n / ((tAcked - t0) / 1000)) * 10) / 10,
      deliveredPerSecond: Math.round((keys.length / ((last - t0) / 1000)) * 10) / 10,
      ack: summarize(acks.latencies),
      e2e: summarize(e2e),
      workerCpuPercent: cpuPercent(cpu0, cpu1),
      workerRssMiB: cpu1.rssMiB,
      serverCpuPercent: server0 && server1 ? cpuPercent(server0, server1) : null,
      machineIdlePercent,
      persistencePerEvent: persistence,
      apiAndLoadCpuPercent: Math.round(((self1.user + self1.system) / 1e6 / seconds) * 1000) / 10,
      // CPU per event (ms) from the send of the first to the arrival of the last.
      cpuMsPerEvent: {
        server: server0 && server1 ? msPerEvent(server1.cpuSeconds - server0.cpuSeconds) : null,
        workers: msPerEvent(cpu1.cpuSeconds - cpu0.cpuSeconds),
        apiAndLoad: msPerEvent((self1.user + self1.system) / 1e6),
      },
    };
    openLoops.push(entry);
    console.log(JSON.stringify(entry));
  };
  const openLoops: Array<
    Record<string, unknown> & {
      concurrency: number;
      subscriptions: number;
      deliveredPerSecond: number;
      e2e: { p50: number; p95: number };
      persistencePerEvent: { total: number } | null;
    }
  > = [];
  for (const c of OPEN_LEVELS) {
    await drain();
    await openLoop('open loop, 1 subscription', OPEN_N, c, ['/deliveries']);
  }
  await adminCall('DELETE', '/api/subscriptions/e2e');
  const tenUrls = Array.from({ length: 10 }, (_, i) => `/deliveries?open=${i}`);
  for (let i = 0; i < 10; i++) await subscribe(`open-${i}`, tenUrls[i]!, ['extend-commerce.OrderCreated']);
  await waitListed(10);
  for (const c of OPEN_TEN ? OPEN_LEVELS.filter((l) => l > 1) : []) {
    await drain();
    await openLoop('open loop, 10 subscriptions', Math.max(20, Math.floor(OPEN_N / 5)), c, tenUrls);
  }
  for (let i = 0; i < 10; i++) await adminCall('DELETE', `/api/subscriptions/open-${i}`);

  // Fan-out: one event to 10 subscriptions.
  const fanOutRun = async () => {
    for (let i = 0; i < 10; i++) await subscribe(`fan-${i}`, `/deliveries?sub=${i}`, ['fan.*']); // distinct URLs: arrivals are keyed by event id and URL
    await waitListed(10);
    const events = Math.max(20, Math.floor(N / 5));
    await drain();
    const before = arrivals.size;
    const t0 = performance.now();
    await runConcurrent(
      events,
      10,
      async () => void (await adminCall('POST', '/api/events', { type: 'fan.Ping', data: { n: 1 } })),
    );
    await waitFor(() => arrivals.size - before >= events * 10, 'fan-out deliveries');
    const fanSeconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < 10; i++) await adminCall('DELETE', `/api/subscriptions/fan-${i}`);
    return {
      scenario: 'fan-out (1 event -> 10 subscriptions)',
      events,
      deliveries: events * 10,
      seconds: Math.round(fanSeconds * 10) / 10,
      deliveriesPerSecond: Math.round(((events * 10) / fanSeconds) * 10) / 10,
    };
  };
  const fanOut: { deliveriesPerSecond?: number; skipped?: true } = FAN_OUT ? await fanOutRun() : { skipped: true };
  console.log(JSON.stringify(fanOut));

  // Resting cost: deliveries parked in retry backoff against a failing endpoint.
  let resting: Record<string, unknown> = { skipped: true };
  if (RESTING > 0) {
    await subscribe('resting', '/failing', ['rest.*']);
    await waitListed(1);
    const idle = sampleWorkers();
    const publishRun = await runConcurrent(
      RESTING,
      20,
      async () => void (await adminCall('POST', '/api/events', { type: 'rest.Ping', data: {} })),
    );
    await waitFor(
      () => receiver.requestsTo('/failing').length >= RESTING,
      'first attempts of resting deliveries',
      900_000,
    );
    await new Promise((r) => setTimeout(r, 5000)); // let the burst settle
    const a = sampleWorkers();
    await new Promise((r) => setTimeout(r, 20_000));
    const b = sampleWorkers();
    resting = {
      deliveriesInBackoff: RESTING,
      nextAttemptIn: '1 h (Retry-After: 3600)',
      publishPerSecond: publishRun.perSecond,
      workerRssMiBBefore: idle.rssMiB,
      workerRssMiB: b.rssMiB,
      workerRssMiBAboveIdle: Math.round((b.rssMiB - idle.rssMiB) * 10) / 10,
      workerCpuPercentWhileResting: Math.round(((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)) * 1000) / 10,
    };
    console.log(JSON.stringify({ scenario: 'resting cost', ...resting }));
  }

  // Retry storm, reported apart from the parked deliveries: every delivery retried each minute.
  let storm: Record<string, unknown> = { skipped: true };
  if (STORM > 0) {
    await subscribe('storm', '/storm', ['storm.*']);
    await waitListed(1);
    const before = sampleWorkers();
    await runConcurrent(
      STORM,
      20,
      async () => void (await adminCall('POST', '/api/events', { type: 'storm.Ping', data: {} })),
    );
    await waitFor(() => receiver.requestsTo('/storm').length >= STORM, 'first attempts of the retry storm', 900_000);
    const a = sampleWorkers();
    const requestsA = receiver.requestsTo('/storm').length;
    await new Promise((r) => setTimeout(r, 90_000)); // a minute and a half: every delivery retries at least once
    const b = sampleWorkers();
    storm = {
      deliveries: STORM,
      retryEvery: '60 s (Retry-After: 60)',
      attemptsPerSecond:
        Math.round(((receiver.requestsTo('/storm').length - requestsA) / ((b.at - a.at) / 1000)) * 10) / 10,
      workerRssMiBBefore: before.rssMiB,
      workerRssMiB: b.rssMiB,
      workerCpuPercent: Math.round(((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)) * 1000) / 10,
    };
    console.log(JSON.stringify({ scenario: 'retry storm', ...storm }));
  }

  const ratio = (a: string, b: string, c: number) => {
    const x = table.find((r) => String(r.scenario).startsWith(a) && r.concurrency === c);
    const y = table.find((r) => String(r.scenario).startsWith(b) && r.concurrency === c);
    return x && y ? Math.round(((x.throughput as number) / (y.throughput as number)) * 100) / 100 : null;
  };
  results.ratios = Object.fromEntries(
    LEVELS.map((c) => [
      `c=${c}`,
      {
        ingestVsRawStart: ratio('hookflow ingest', 'raw start', c),
        e2eVsRawActivityWorkflow: ratio('hookflow end to end', 'raw workflow', c),
      },
    ]),
  );
  Object.assign(results, { table, eventSteps, openLoops, fanOut, resting, storm });
  console.table(table);
  console.log('ratios (throughput, hookflow / raw):', JSON.stringify(results.ratios));

  // The performance goals (docs/performance.md), next to what this run measured.
  const find = (prefix: string, c: number) =>
    table.find((r) => String(r.scenario).startsWith(prefix) && r.concurrency === c) as
      { scenario: string; p50: number; p95: number; p99: number } | undefined;
  const open = (subs: number, c: number) => openLoops.find((o) => o.subscriptions === subs && o.concurrency === c);
  const goals: Array<{ goal: string; measured: string; result: 'pass' | 'short' | 'not measured' }> = [];
  const goal = (
    text: string,
    measured: number | null | undefined,
    target: number,
    higherIsBetter: boolean,
    show?: string,
  ) =>
    goals.push({
      goal: text,
      measured:
        measured === null || measured === undefined || Number.isNaN(measured)
          ? '-'
          : (show ?? String(Math.round(measured * 100) / 100)),
      result:
        measured === null || measured === undefined || Number.isNaN(measured)
          ? 'not measured'
          : (higherIsBetter ? measured >= target : measured <= target)
            ? 'pass'
            : 'short',
    });
  // Two workflows per event at the cost of one (docs/performance.md, "Today's figures").
  goal(
    'persistence operations per delivered event (open loop, 1 subscription, C=10) <= 24',
    open(1, 10)?.persistencePerEvent?.total,
    24,
    false,
  );
  for (const c of [10, 50]) {
    const raw = find('raw workflow', c) as { throughput?: number } | undefined;
    const delivered = open(1, c)?.deliveredPerSecond;
    goal(
      `open loop delivered/s / raw one-activity wf/s at C=${c} >= 0.9`,
      raw?.throughput && delivered ? delivered / raw.throughput : null,
      0.9,
      true,
    );
  }
  for (const c of [10, 50])
    goal(
      `open loop, 1 subscription, C=${c}: delivered/s >= 150 (Convoy's level)`,
      open(1, c)?.deliveredPerSecond,
      150,
      true,
    );
  goal('open loop, 1 subscription, C=10: e2e p50 < 1000 ms', open(1, 10)?.e2e.p50, 1000, false);
  for (const c of [10, 50])
    goal(`ingest / raw start throughput at c=${c} >= 0.9`, ratio('hookflow ingest', 'raw start', c), 0.9, true);
  {
    const h = find('hookflow ingest', 1),
      r = find('raw start', 1);
    goal(
      'ack p99 <= raw start p99 + 5 ms at c=1 (measured: ack p99 - raw p99, ms)',
      h && r ? h.p99 - r.p99 : null,
      5,
      false,
    );
  }
  for (const c of [1, 10]) {
    const h = find('hookflow end to end', c),
      r = find('raw workflow', c);
    goal(`end-to-end p50 <= 1.3 x raw one-activity p50 at c=${c}`, h && r ? h.p50 / r.p50 : null, 1.3, false);
  }
  for (const c of [10, 50])
    goal(
      `end-to-end / raw one-activity throughput at c=${c} >= 0.8`,
      ratio('hookflow end to end', 'raw workflow', c),
      0.8,
      true,
    );
  goal(
    'parked deliveries: worker RSS above idle <= 300 MiB',
    resting.workerRssMiBAboveIdle as number | undefined,
    300,
    false,
  );
  goal(
    'parked deliveries: worker CPU ~0 (<= 5 % of a core)',
    resting.workerCpuPercentWhileResting as number | undefined,
    5,
    false,
  );
  goal('fan-out, 1 event -> 10 subscriptions: >= 3 x 46 = 138 deliveries/s', fanOut.deliveriesPerSecond, 138, true);
  if (external) {
    const h = find('hookflow end to end', 10);
    goal('end-to-end p95 <= 3 x p50 at c=10 (PostgreSQL tier)', h ? h.p95 / h.p50 : null, 3, false);
  }
  results.goals = goals;
  console.table(goals);

  mkdirSync(resolve(__dirname, 'results'), { recursive: true });
  const label = process.env.BENCH_LABEL ? `-${process.env.BENCH_LABEL.replace(/[^\w.-]/g, '_')}` : '';
  const file = resolve(__dirname, 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}${label}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`results written to ${file}`);

  await api.close();
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r).kill('SIGTERM'))));
  await connection.close();
  await http.close();
  await receiver.stop();
  await sourceApi.stop();
  await server.stop();
}

/**
 * The events of some workflows' histories merged by time, as "+ms since the previous step  workflow  event":
 * a gap before WORKFLOW_TASK_STARTED is dispatch, before WORKFLOW_TASK_COMPLETED the worker, and so on.
 */
async function timeline(client: Client, workflowIds: string[]) {
  const steps: Array<{ at: number; what: string }> = [];
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
      steps.push({ at, what: `${id.split('/')[0]} ${EventType[e.eventType ?? 0]?.replace('EVENT_TYPE_', '')}` });
    }
  }
  steps.sort((a, b) => a.at - b.at);
  return steps.map((step, i) => `+${i ? step.at - steps[i - 1]!.at : 0} ${step.what}`);
}

/** BENCH_SQLITE_PRAGMAS="journal_mode=wal,synchronous=normal" (with BENCH_DB=file; "none": SQLite's defaults). */
function benchPragmas() {
  const spec = process.env.BENCH_SQLITE_PRAGMAS;
  if (!spec) return undefined;
  if (spec === 'none') return {};
  return Object.fromEntries(spec.split(',').map((kv) => kv.split('=') as [string, string]));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
