import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Agent, request } from 'undici';
import { startApi } from '../src/api/server';
import { parseConfig } from '../src/config/load';
import { freePort } from '../src/observability/free-port';
import { SA } from '../src/shared/search-attributes';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/stack/dev-server';
import { temporalCliPath } from '../src/stack/temporal-cli';
import { runConcurrent, summarize } from './stats';

/**
 * `npm run bench:event-log`: the event log's latency with EVENT_LOG_N events in visibility (default
 * 100,000). Fills visibility with inbound-shaped workflows (the search attributes hookflow's inbound
 * workflows carry) and one delivery-shaped workflow for every fifth event, started on a task queue no
 * worker polls and with a start delay of a year: each stays running and costs only its start. Then measures GET /api/events through the
 * API: the first page, the following pages (by cursor), an entity search, a type + status search and
 * a subscription + delivery status search, EVENT_LOG_REQUESTS each (default 100), one at a time.
 * A dev server of its own, or BENCH_TEMPORAL_ADDRESS (bench/on-postgres.sh bench/event-log.ts for the
 * PostgreSQL tier). Results: bench/results/event-log-<tier>-<date>.json.
 */
const N = Number(process.env.EVENT_LOG_N ?? 100_000);
const REQUESTS = Number(process.env.EVENT_LOG_REQUESTS ?? 100);
/** Starts in flight while filling (EVENT_LOG_FILL_CONCURRENCY): the PostgreSQL tier takes more than SQLite's one connection. */
const FILL_CONCURRENCY = Number(process.env.EVENT_LOG_FILL_CONCURRENCY ?? 50);
const ADMIN = 'bench-admin-token-0123456789';
const IDLE_QUEUE = 'event-log-bench-idle';
/** Delayed starts: no first workflow task is scheduled (nothing in matching), only a timer. */
const START_DELAY = '365 days';

const SOURCES = [
  { id: 'erp', kind: 'extend-commerce', types: ['OrderCreated', 'OrderPicked', 'PurchaseCreated', 'ProductChanged'] },
  { id: 'wms', kind: 'ongoing-wms', types: ['OrderPicked', 'ArticleUpdated', 'InOrderReceived'] },
  { id: 'esign', kind: 'automation-api', types: ['OrderAccepted', 'OrderShipped'] },
] as const;
const STATUSES = ['handed-off', 'handed-off', 'handed-off', 'handed-off', 'filtered', 'follow-up-failed'];
const SUBSCRIPTIONS = ['erp-prod', 'bi-export', 'slack-ops'];

/** The i-th event's search attributes: spread over sources, types, statuses and warehouses. */
function eventOf(run: string, i: number) {
  const source = SOURCES[i % SOURCES.length]!;
  return {
    workflowId: `inbound/${source.id}/${run}-${i}`,
    eventId: `${source.id}/${run}-${i}`,
    source,
    type: source.types[Math.floor(i / 7) % source.types.length]!,
    entity: `SO-${run}-${i}`,
    // Independent of source and type (11 and 13 share no factor with 3 sources and 2 to 4 types).
    status: STATUSES[Math.floor(i / 11) % STATUSES.length]!,
    warehouse: `W${i % 7}`,
  };
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const external = process.env.BENCH_TEMPORAL_ADDRESS;
  const tier = process.env.EVENT_LOG_TIER ?? (external ? 'postgres' : 'dev');
  const server = external
    ? { address: external, stop: async () => undefined }
    : await startDevServer({ cli: temporalCliPath(), headless: true, dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG });
  process.once('exit', () => void server.stop());

  const yaml = `
security: { encryptionKeys: [{ id: k1, key: "${randomBytes(32).toString('base64')}" }] }
admin: { token: ${ADMIN} }
server: { port: ${await freePort()} }
logging: { level: warn }
`;
  const config = parseConfig(yaml, { ...process.env, TEMPORAL_ADDRESS: server.address }, 'event-log bench');
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const run = Date.now().toString(36);

  // Fill: inbound-shaped workflows, and a delivery for every fifth event (failed for every third of those).
  const fillStarted = performance.now();
  const fill = await runConcurrent(N, FILL_CONCURRENCY, async (i) => {
    const e = eventOf(run, i);
    const starts: Array<Promise<unknown>> = [];
    starts.push(
      client.workflow.start('inboundWorkflow', {
        taskQueue: IDLE_QUEUE,
        startDelay: START_DELAY,
        workflowId: e.workflowId,
        typedSearchAttributes: [
          { key: SA.source, value: e.source.id },
          { key: SA.sourceKind, value: e.source.kind },
          { key: SA.eventType, value: e.type },
          { key: SA.entity, value: e.entity },
          { key: SA.warehouse, value: e.warehouse },
          { key: SA.status, value: e.status },
        ],
      }),
    );
    // The event's delivery, if any, at the same time (each is one start of its own).
    if (i % 5 === 0 && e.status === 'handed-off') {
      const subscription = SUBSCRIPTIONS[Math.floor(i / 13) % SUBSCRIPTIONS.length]!;
      starts.push(
        client.workflow.start('deliveryWorkflow', {
          taskQueue: IDLE_QUEUE,
          startDelay: START_DELAY,
          workflowId: `delivery/${e.eventId}/${subscription}`,
          typedSearchAttributes: [
            { key: SA.subscription, value: subscription },
            { key: SA.eventType, value: `${e.source.kind}.${e.type}` },
            { key: SA.eventId, value: e.eventId },
            { key: SA.entity, value: e.entity },
            { key: SA.status, value: Math.floor(i / 17) % 3 === 0 ? 'failed' : 'delivered' },
            { key: SA.attempts, value: 1 },
            { key: SA.httpStatus, value: Math.floor(i / 17) % 3 === 0 ? 503 : 200 },
          ],
        }),
      );
    }
    await Promise.all(starts);
    if ((i + 1) % 10_000 === 0) {
      const seconds = (performance.now() - fillStarted) / 1000;
      console.log(`filled ${i + 1} of ${N} in ${seconds.toFixed(0)} s (${((i + 1) / seconds).toFixed(0)} events/s)`);
    }
  });
  const inboundQuery = `WorkflowType = 'inboundWorkflow' AND TaskQueue = '${IDLE_QUEUE}'`;
  for (;;) {
    const { count } = await client.workflow.count(inboundQuery);
    if (count >= N) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const deliveries = (await client.workflow.count(`WorkflowType = 'deliveryWorkflow' AND TaskQueue = '${IDLE_QUEUE}'`))
    .count;
  console.log(`visibility holds ${N} events and ${deliveries} deliveries (filled in ${fillSeconds.toFixed(1)} s)`);

  const api = await startApi(config, { level: 'warn' });
  const http = new Agent({ connections: 4 });
  const get = async (params: Record<string, string>) => {
    const res = await request(`${api.url}/api/events?${new URLSearchParams(params)}`, {
      dispatcher: http,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const body = (await res.body.json()) as { events: unknown[]; nextCursor: string | null };
    if (res.statusCode !== 200) throw new Error(`GET /api/events: ${res.statusCode} ${JSON.stringify(body)}`);
    return body;
  };
  const measure = async (label: string, params: (i: number) => Record<string, string>) => {
    let rows = 0;
    await get(params(0)); // warm: connection and the first plan of this query
    const { latencies } = await runConcurrent(REQUESTS, 1, async (i) => {
      rows += (await get(params(i))).events.length;
    });
    return { search: label, ...summarize(latencies), rowsPerRequest: Math.round(rows / REQUESTS) };
  };

  // The cursor walk: each request takes the previous page's cursor (pages 1 to REQUESTS).
  const walkPages = async () => {
    const latencies: number[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < REQUESTS; i++) {
      const t0 = performance.now();
      const params: Record<string, string> = cursor ? { pageSize: '50', cursor } : { pageSize: '50' };
      cursor = (await get(params)).nextCursor;
      latencies.push(performance.now() - t0);
    }
    return { search: 'list, walking pages by cursor (50)', ...summarize(latencies), rowsPerRequest: 50 };
  };
  // The machine's load while the searches ran (other work shares the cores): 1-minute load averages.
  const loadBefore = loadavg()[0]!;
  const results = [
    await measure('list, first page (50)', () => ({ pageSize: '50' })),
    await walkPages(),
    await measure('search by entity', (i) => ({ entity: `SO-${run}-${(i * 7919) % N}` })),
    await measure('search by type + status (50)', (i) => ({
      type: i % 2 ? 'extend-commerce.OrderPicked' : 'ongoing-wms.OrderPicked',
      status: 'filtered',
      pageSize: '50',
    })),
    await measure('search by subscription + delivery status (50)', (i) => ({
      subscription: SUBSCRIPTIONS[i % SUBSCRIPTIONS.length]!,
      status: 'failed',
      pageSize: '50',
    })),
  ];
  const loadAfter = loadavg()[0]!;
  console.table(results);
  console.log(`load average (1 min) ${loadBefore.toFixed(1)} before the searches, ${loadAfter.toFixed(1)} after`);

  const out = {
    startedAt: new Date().toISOString(),
    tier,
    events: N,
    deliveries,
    fill: {
      seconds: Math.round(fillSeconds * 10) / 10,
      eventsPerSecond: fill.perSecond,
      concurrency: FILL_CONCURRENCY,
    },
    requestsPerSearch: REQUESTS,
    loadAverage: { before: Math.round(loadBefore * 10) / 10, after: Math.round(loadAfter * 10) / 10 },
    results,
  };
  mkdirSync(resolve(__dirname, 'results'), { recursive: true });
  const file = resolve(
    __dirname,
    'results',
    `event-log-${tier}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`,
  );
  writeFileSync(file, JSON.stringify(out, null, 2));
  console.log(`results written to ${file}`);
  await api.close();
  await connection.close();
  await server.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
