import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { Agent, request } from 'undici';
import { deliverySchedule } from '../src/activities/fan-out';
import { freePort } from '../src/observability/free-port';
import { deliveryWorkflowId, type OutboundEvent } from '../src/shared/delivery';
import { deliveryStartOptions } from '../src/shared/delivery-start';
import { readSubscription } from '../src/subscriptions/lookup';
import { csrfOf } from '../test/support/console-session';
import { extendBody, sign } from '../test/support/webhooks';
import { child, startBenchStack, writeResults } from './stack';
import { cpuPercent, idlePercent, machineTicks, runConcurrent, sampleProcess, summarize } from './stats';

/**
 * `npm run bench:admin-reads`: the admin API's and the console's reads while the worker works through a
 * backlog of BENCH_BACKLOG deliveries (default 10,000). Five subscriptions: `failing` (its receiver
 * answers 503, so its deliveries retry every 1 to 5 s: `delivery.oneDay` with short intervals), three
 * `slow-*` (200 after 50 ms) and `ordered` (`ordering: entity`, also at the 503 receiver, so its lanes
 * hold failing heads). The backlog is started
 * with the client, as hookflow starts deliveries (deliveryStartOptions), spread over the four unordered
 * subscriptions; a trickle of signed Extend webhooks keeps inbound workflows and lanes running. Then
 * BENCH_READS (default 200) of each read, BENCH_READ_CONCURRENCY (default 4) at a time, with the worker's
 * and the API's CPU and the machine's load over the same window. Worker and API are child processes
 * (hookflow's own entry points). A dev server of its own, or BENCH_TEMPORAL_ADDRESS (bench/on-postgres.sh
 * bench/admin-reads.ts for the PostgreSQL tier). Results: bench/results/admin-reads-<tier>-<date>.json.
 */
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 10_000);
const READS = Number(process.env.BENCH_READS ?? 200);
const READ_CONCURRENCY = Number(process.env.BENCH_READ_CONCURRENCY ?? 4);
/** Seconds to wait after the backlog is started, before measuring (the worker is busy from the first start). */
const SETTLE_SECONDS = Number(process.env.BENCH_SETTLE_SECONDS ?? 0);
const START_CONCURRENCY = 50;
const WEBHOOK_EVERY_MS = 200;
const GOAL_P99_MS = 1000;
const ADMIN = 'bench-admin-token-0123456789';
const SOURCE_SECRET = 'bench-source-secret';
const TASK_QUEUE = 'admin-reads-bench';
const UNORDERED = ['failing', 'slow-1', 'slow-2', 'slow-3'];

/** Loopback receivers: /failing answers 503, /slow 200 after 50 ms. Counts requests, keeps nothing. */
async function startReceiver() {
  const counts = { failing: 0, slow: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      if (req.url?.startsWith('/failing')) {
        counts.failing++;
        res.writeHead(503).end('unavailable');
      } else {
        counts.slow++;
        setTimeout(() => res.writeHead(200).end('ok'), 50);
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    counts,
    stop: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
}

/** A realistic Extend order event as the inbound workflow hands it to deliveries (notification + follow-up). */
function orderEvent(run: string, i: number): OutboundEvent {
  const orderNumber = `SO-${run}-${i}`;
  return {
    id: `erp/${run}-${i}-0`,
    uuid: randomUUID(),
    type: 'extend-commerce.OrderCreated',
    occurredAt: new Date().toISOString(),
    source: { id: 'erp', kind: 'extend-commerce' },
    entity: orderNumber,
    warehouse: `W${i % 7}`,
    data: { OrderNumber: orderNumber },
    followUp: {
      orderNumber,
      customer: { id: `C-${i % 997}`, name: 'Bench Customer AB', email: 'orders@example.com' },
      lines: Array.from({ length: 1 + (i % 5) }, (_, n) => ({ sku: `ART-${(i + n) % 1000}`, quantity: 1 + n })),
      total: { amount: 1000 + (i % 100), currency: 'SEK' },
    },
    fetchedAt: new Date().toISOString(),
  };
}

async function main() {
  const began = performance.now();
  const startedAt = new Date().toISOString();
  const apiPort = await freePort();
  const stack = await startBenchStack(
    'admin-reads',
    TASK_QUEUE,
    `
admin: { token: ${ADMIN} }
server: { port: ${apiPort}, rateLimit: { max: 100000000, window: PT1M } }
sources: [{ id: erp, kind: extend-commerce, secret: ${SOURCE_SECRET} }]
delivery: { oneDay: { initialInterval: PT1S, maximumInterval: PT5S, window: PT1H } }
`,
  );
  const { client, config, worker, env } = stack;
  const { tier } = stack.temporal;
  // The Temporal server's CPU too: the dev server's process, or BENCH_SERVER_PID (bench/on-postgres.sh sets it).
  const serverPid = stack.temporal.pid;
  const receiver = await startReceiver();

  const api = child('../src/api/server.ts', env);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const http = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  for (;;) {
    const ok = await request(`${apiUrl}/healthz`, { dispatcher: http }).then(
      async (res) => (await res.body.dump(), res.statusCode === 200),
      () => false,
    );
    if (ok) break;
    if (api.exitCode !== null) throw new Error(`API exited with ${api.exitCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const admin = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await request(`${apiUrl}${path}`, {
      method,
      dispatcher: http,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return JSON.parse(text) as unknown;
  };
  const subscription = (id: string, path: string, extra: Record<string, unknown> = {}) =>
    admin('POST', '/api/subscriptions', {
      id,
      name: id,
      contactEmail: 'bench@example.com',
      url: `${receiver.url}${path}`,
      secret: 'sub-secret',
      triggers: ['extend-commerce.*'],
      retryPolicy: 'one-day',
      signature: 'x-signature',
      ...extra,
    });
  await subscription('failing', '/failing');
  for (const id of UNORDERED.slice(1)) await subscription(id, `/slow?${id}`);
  // Ordered at the failing receiver: its lanes hold failing heads, what an operator opens the lanes page for.
  await subscription('ordered', '/failing?ordered', { triggers: ['extend-commerce.OrderCreated'], ordering: 'entity' });
  const schedules = new Map<string, ReturnType<typeof deliverySchedule>>();
  for (const id of UNORDERED) {
    const sub = await readSubscription(client, id);
    if (!sub) throw new Error(`subscription ${id} not found`);
    schedules.set(id, deliverySchedule(sub, config));
  }

  // The trickle: a signed Extend webhook every 200 ms (20 order numbers, so the ordered lanes hold work).
  let trickling = true;
  let webhooks = 0;
  const webhookStatuses: Record<string, number> = {};
  const trickle = (async () => {
    for (let k = 0; trickling; k++) {
      const body = JSON.stringify(extendBody([{ Action: 'OrderCreated', Details: { OrderNumber: `SO-T${k % 20}` } }]));
      const res = await request(`${apiUrl}/webhooks/erp`, {
        method: 'POST',
        dispatcher: http,
        headers: { 'content-type': 'application/json', 'ms-signature': sign.ms(SOURCE_SECRET, body) },
        body,
      }).catch(() => undefined);
      await res?.body.dump();
      const status = String(res?.statusCode ?? 'error');
      webhookStatuses[status] = (webhookStatuses[status] ?? 0) + 1;
      webhooks++;
      await new Promise((r) => setTimeout(r, WEBHOOK_EVERY_MS));
    }
  })();

  // The backlog: deliveries started as hookflow starts them, spread over the unordered subscriptions.
  const run = Date.now().toString(36);
  const backlogRun = await runConcurrent(BACKLOG, START_CONCURRENCY, async (i) => {
    const subscriptionId = UNORDERED[i % UNORDERED.length]!;
    const event = orderEvent(run, i);
    const workflowId = deliveryWorkflowId(event.id, subscriptionId);
    const schedule = schedules.get(subscriptionId)!;
    await client.workflow.start('deliveryWorkflow', {
      taskQueue: TASK_QUEUE,
      ...deliveryStartOptions({ subscriptionId, workflowId, schedule }, event),
    });
    if ((i + 1) % 2_000 === 0) console.log(`started ${i + 1} of ${BACKLOG} deliveries`);
  });
  console.log(`backlog of ${BACKLOG} deliveries started in ${backlogRun.seconds.toFixed(1)} s`);
  await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
  const runningDeliveries = async () =>
    (
      await client.workflow.count(
        `WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${TASK_QUEUE}'`,
      )
    ).count;

  // The console: sign in (the form's CSRF token and cookie), then keep the session cookie.
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const loginPage = await request(`${apiUrl}/console/login`, { dispatcher: http });
  keep(loginPage.headers['set-cookie']);
  const signIn = await request(`${apiUrl}/console/login`, {
    method: 'POST',
    dispatcher: http,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
    body: new URLSearchParams({ token: ADMIN, _csrf: csrfOf(await loginPage.body.text()) }).toString(),
  });
  await signIn.body.dump();
  keep(signIn.headers['set-cookie']);
  if (signIn.statusCode !== 303) throw new Error(`console sign-in answered ${signIn.statusCode}`);

  const reads: Array<{ read: string; path: string; console?: true }> = [
    { read: 'GET /api/subscriptions', path: '/api/subscriptions' },
    { read: 'GET /api/subscriptions/:id', path: '/api/subscriptions/failing' },
    { read: 'GET /api/subscriptions/:id/health', path: '/api/subscriptions/failing/health' },
    { read: 'GET /api/events?pageSize=50', path: '/api/events?pageSize=50' },
    { read: 'GET /api/subscriptions/:id/lanes', path: '/api/subscriptions/ordered/lanes' },
    { read: 'console: subscriptions page', path: '/console', console: true },
  ];
  const readOnce = async (r: (typeof reads)[number]) => {
    const res = await request(`${apiUrl}${r.path}`, {
      dispatcher: http,
      headers: r.console ? { cookie: cookie() } : { authorization: `Bearer ${ADMIN}` },
    });
    const body = await res.body.text();
    return { status: res.statusCode, body };
  };
  // Warm (connections, the first plan of each query), and what each read answers: items or bytes.
  const answers: Record<string, string> = {};
  for (const r of reads) {
    const { status, body } = await readOnce(r);
    const json = r.console ? undefined : (JSON.parse(body) as Record<string, unknown>);
    const list = [json?.subscriptions, json?.events, json?.lanes].find(Array.isArray);
    answers[r.read] = `${status}, ${list ? `${list.length} items` : `${body.length} bytes`}`;
  }
  console.log('answers before measuring:', JSON.stringify(answers));

  const deliveriesBefore = await runningDeliveries();
  const workerA = sampleProcess(worker.pid!);
  const apiA = sampleProcess(api.pid!);
  const serverA = serverPid ? sampleProcess(serverPid) : undefined;
  const machineA = machineTicks();
  const attemptsA = { ...receiver.counts };
  const measuredFrom = performance.now();
  // Interleaved: every read is measured over the same window of the backlog, READ_CONCURRENCY in flight.
  const statuses = reads.map(() => ({}) as Record<string, number>);
  const measured = await runConcurrent(READS * reads.length, READ_CONCURRENCY, async (i) => {
    const { status } = await readOnce(reads[i % reads.length]!);
    if (status < 200 || status >= 300)
      statuses[i % reads.length]![status] = (statuses[i % reads.length]![status] ?? 0) + 1;
  });
  const results = reads.map((r, k) => ({
    read: r.read,
    ...summarize(measured.latencies.filter((_, j) => measured.order[j]! % reads.length === k)),
    non2xx: statuses[k]!,
  }));
  const measuredSeconds = (performance.now() - measuredFrom) / 1000;
  const workerB = sampleProcess(worker.pid!);
  const apiB = sampleProcess(api.pid!);
  const serverB = serverPid ? sampleProcess(serverPid) : undefined;
  const load = {
    seconds: Math.round(measuredSeconds * 10) / 10,
    workerCpuPercent: cpuPercent(workerA, workerB),
    workerRssMiB: workerB.rssMiB,
    apiCpuPercent: cpuPercent(apiA, apiB),
    serverCpuPercent: serverA && serverB ? cpuPercent(serverA, serverB) : null,
    machineIdlePercent: idlePercent(machineA, machineTicks()),
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    attemptsPerSecond: {
      failing: Math.round(((receiver.counts.failing - attemptsA.failing) / measuredSeconds) * 10) / 10,
      slow: Math.round(((receiver.counts.slow - attemptsA.slow) / measuredSeconds) * 10) / 10,
    },
    runningDeliveriesBefore: deliveriesBefore,
    runningDeliveriesAfter: await runningDeliveries(),
  };
  trickling = false;
  await trickle;

  console.table(results.map((r) => ({ ...r, non2xx: JSON.stringify(r.non2xx) })));
  console.log('while measuring:', JSON.stringify(load));
  const worstP99 = Math.max(...results.map((r) => r.p99));
  const errors = results.reduce((n, r) => n + Object.values(r.non2xx).reduce((a, b) => a + b, 0), 0);
  const pass = worstP99 <= GOAL_P99_MS && errors === 0;
  const goal = `admin reads p99 <= ${GOAL_P99_MS} ms under a ${BACKLOG}-delivery backlog: ${pass ? 'pass' : 'short'} (worst p99 ${worstP99} ms, ${errors} non-2xx)`;
  console.log(goal);

  const out = {
    startedAt,
    tier,
    backlog: BACKLOG,
    readsPerEndpoint: READS,
    readConcurrency: READ_CONCURRENCY,
    settleSeconds: SETTLE_SECONDS,
    answersBeforeMeasuring: answers,
    backlogStart: { seconds: Math.round(backlogRun.seconds * 10) / 10, startsPerSecond: backlogRun.perSecond },
    webhooks: { sent: webhooks, statuses: webhookStatuses, everyMs: WEBHOOK_EVERY_MS },
    load,
    results,
    goal: { text: goal, pass, worstP99, non2xx: errors },
    totalSeconds: Math.round((performance.now() - began) / 100) / 10,
  };
  writeResults('admin-reads', tier, out);

  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  await Promise.all([api, worker].map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : null)));
  await http.close();
  await receiver.stop();
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
