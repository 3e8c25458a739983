import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverySchedule } from '../src/activities/fan-out';
import { requireKeyring } from '../src/security/from-config';
import { deliveryWorkflowId, type OutboundEvent } from '../src/shared/delivery';
import { deliveryStartOptions } from '../src/shared/delivery-start';
import { createSubscriptionSchema } from '../src/subscriptions/schema';
import { SubscriptionStore } from '../src/subscriptions/store';
import { gateState, holdSubscription, releaseSubscription } from '../src/temporal/hold';
import { startBenchStack, writeResults } from './stack';
import { cpuPercent, runConcurrent, sampleProcess } from './stats';

/**
 * `npm run bench:throttle`: the gate (docs/operations.md "Hold and release", "Throttle").
 * 1. Throttle: THROTTLE_N deliveries (default 2,000) held, then released into a subscription with
 *    rateLimit THROTTLE_RATE/s (default 20) and maxInFlight THROTTLE_MAX (default 10): measured drain rate
 *    and the most requests the receiver saw at once.
 * 2. Release: RELEASE_N held deliveries (default 10,000) of an unthrottled subscription released at once:
 *    time until the receiver has them all, and the worker's RSS and CPU meanwhile.
 * Deliveries are started directly (as fan-out starts them), on the bench worker (bench/worker.ts, a child
 * process so its RSS and CPU are its own). A dev server of its own, or BENCH_TEMPORAL_ADDRESS
 * (`bash bench/on-postgres.sh bench/throttle.ts`). Results: bench/results/throttle-<tier>-<date>.json.
 */
const THROTTLE_N = Number(process.env.THROTTLE_N ?? 2_000);
const THROTTLE_RATE = Number(process.env.THROTTLE_RATE ?? 20);
const THROTTLE_MAX = Number(process.env.THROTTLE_MAX ?? 10);
const RELEASE_N = Number(process.env.RELEASE_N ?? 10_000);
const START_CONCURRENCY = 32;
const TASK_QUEUE = `throttle-bench-${randomUUID().slice(0, 8)}`;

interface PathCounts {
  count: number;
  /** Distinct events (x-hookflow-event-id): fewer than `count` means an event was sent twice. */
  events: Set<string>;
  open: number;
  maxOpen: number;
  first?: number;
  last?: number;
}

/** A receiver that answers 200 after 20 ms and counts requests and events per path, in flight and at most at once. */
async function startReceiver() {
  const paths = new Map<string, PathCounts>();
  const countsAt = (path: string) => {
    const p = paths.get(path) ?? { count: 0, events: new Set<string>(), open: 0, maxOpen: 0 };
    paths.set(path, p);
    return p;
  };
  const server = createServer((req, res) => {
    const p = countsAt((req.url ?? '/').split('?')[0]!);
    p.events.add(String(req.headers['x-hookflow-event-id']));
    p.open += 1;
    p.maxOpen = Math.max(p.maxOpen, p.open);
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        p.open -= 1;
        p.count += 1;
        p.first ??= Date.now();
        p.last = Date.now();
        res.writeHead(200).end('ok');
      }, 20);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    at: countsAt,
    stop: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  // A check that fails (a query while the worker is busy) counts as not yet.
  while (!(await Promise.resolve(check()).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function main() {
  const stack = await startBenchStack(
    'throttle',
    TASK_QUEUE,
    'delivery: { oneDay: { initialInterval: PT1S, maximumInterval: PT5S, window: PT1H } }',
  );
  const { client, config, worker } = stack;
  const { tier } = stack.temporal;
  const receiver = await startReceiver();
  const store = new SubscriptionStore(client, TASK_QUEUE, requireKeyring(config, 'the bench'));
  const run = Date.now().toString(36);

  /** A held subscription at `path` with `n` deliveries waiting at its gate. */
  async function backlog(id: string, path: string, n: number, extra: Record<string, unknown>) {
    const sub = await store.create(
      createSubscriptionSchema.parse({
        id,
        name: id,
        contactEmail: 'bench@example.com',
        url: `${receiver.url}${path}`,
        secret: 'sub-secret',
        triggers: ['shop.*'],
        signature: 'x-signature',
        ...extra,
      }),
    );
    await holdSubscription(client, id, { by: 'operator', reason: 'bench' });
    const schedule = deliverySchedule(sub, config);
    const filledFrom = performance.now();
    await runConcurrent(n, START_CONCURRENCY, async (i) => {
      const event: OutboundEvent = {
        id: `api/${run}-${id}-${i}`,
        uuid: randomUUID(),
        type: 'shop.OrderPaid',
        occurredAt: new Date().toISOString(),
        data: { orderNumber: `SO-${i}`, amount: i },
      };
      const workflowId = deliveryWorkflowId(event.id, id);
      await client.workflow.start('deliveryWorkflow', {
        ...deliveryStartOptions({ subscriptionId: id, workflowId, schedule }, event),
        taskQueue: TASK_QUEUE,
      });
    });
    await until(async () => (await gateState(client, id)).waiting >= n, `${n} deliveries waiting at ${id}'s gate`);
    const fillSeconds = (performance.now() - filledFrom) / 1000;
    console.log(`${id}: ${n} deliveries held in ${fillSeconds.toFixed(1)} s`);
    return fillSeconds;
  }

  /** Releases `id` and waits until the receiver has `n` requests; worker RSS and CPU sampled meanwhile. */
  async function drain(id: string, path: string, n: number) {
    const before = sampleProcess(worker.pid!);
    let peakRss = before.rssMiB;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, sampleProcess(worker.pid!).rssMiB)), 250);
    const releasedAt = Date.now();
    await releaseSubscription(client, id, { by: 'operator' });
    await until(() => receiver.at(path).count >= n, `${n} requests at ${path}`);
    clearInterval(sampler);
    const after = sampleProcess(worker.pid!);
    const at = receiver.at(path);
    const seconds = (at.last! - releasedAt) / 1000;
    return {
      seconds: Math.round(seconds * 10) / 10,
      perSecond: Math.round((n / seconds) * 10) / 10,
      firstRequestAfterMs: at.first! - releasedAt,
      maxInFlightAtReceiver: at.maxOpen,
      requests: at.count,
      distinctEvents: at.events.size,
      workerRssMiB: { before: before.rssMiB, peak: peakRss, after: after.rssMiB },
      workerCpuPercent: cpuPercent(before, after),
    };
  }

  const throttleFill = await backlog(`throttled-${run}`, '/throttled', THROTTLE_N, {
    rateLimit: THROTTLE_RATE,
    maxInFlight: THROTTLE_MAX,
  });
  const throttle = await drain(`throttled-${run}`, '/throttled', THROTTLE_N);
  console.log('throttle', throttle);
  const releaseFill = await backlog(`held-${run}`, '/held', RELEASE_N, {});
  const release = await drain(`held-${run}`, '/held', RELEASE_N);
  console.log('release', release);

  const results = {
    bench: 'throttle',
    tier,
    at: new Date().toISOString(),
    throttle: {
      n: THROTTLE_N,
      rateLimit: THROTTLE_RATE,
      maxInFlight: THROTTLE_MAX,
      fillSeconds: throttleFill,
      ...throttle,
    },
    release: { n: RELEASE_N, fillSeconds: releaseFill, ...release },
  };
  writeResults('throttle', tier, results);
  await receiver.stop();
  await stack.stop();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
