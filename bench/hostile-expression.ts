import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverySchedule } from '../src/activities/fan-out';
import { requireKeyring } from '../src/security/from-config';
import { deliveryWorkflowId, type OutboundEvent } from '../src/shared/delivery';
import { deliveryStartOptions } from '../src/shared/delivery-start';
import type { Subscription } from '../src/shared/subscription';
import { createSubscriptionSchema } from '../src/subscriptions/schema';
import { SubscriptionStore } from '../src/subscriptions/store';
import { startBenchStack, writeResults } from './stack';
import { cpuPercent, sampleProcess, summarize } from './stats';

/**
 * `npm run bench:hostile-expression`: does the worst transformation the expression bounds allow stall the
 * worker for everyone else? (docs/performance.md "Hostile expressions".)
 * A steady stream of RATE events/s (default 10) for SECONDS (default 30) to a normal subscription: the
 * e2e latency (event started -> receiver has it) of its deliveries, first alone, then while a second
 * subscription with a cheap transformation receives the same stream (the control: twice the deliveries),
 * then while a third with a hostile transformation (a doubling recursion: it runs to the step or CPU bound
 * on every event, then fails with TransformFailed) does. Hostile against cheap is the expression's own cost. Deliveries are started as the
 * fan-out starts them, on the bench worker (bench/worker.ts, a child process); a dev server of its own,
 * or BENCH_TEMPORAL_ADDRESS. Results: bench/results/hostile-expression-<tier>-<date>.json.
 */
const RATE = Number(process.env.HOSTILE_RATE ?? 10);
const SECONDS = Number(process.env.HOSTILE_SECONDS ?? 30);
const TASK_QUEUE = `hostile-bench-${randomUUID().slice(0, 8)}`;
/** 2^25 calls if unbounded: stops at 5,000 steps or 50 ms of CPU, each time. */
export const HOSTILE_BODY = '($f := function($n){$n > 0 ? $f($n - 1) + $f($n - 1) : 1}; {"n": $f(25)})';
/** The control: a transformation of a few steps (it keeps `sentAt`, so its deliveries are counted too). */
const CHEAP_BODY = '{"n": data.orderNumber, "data": {"sentAt": data.sentAt}}';

/** A receiver that answers 200 at once and records each request's e2e latency from `data.sentAt`. */
async function startReceiver() {
  const latencies = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      try {
        const sentAt = (JSON.parse(Buffer.concat(chunks).toString()) as { data?: { sentAt?: number } }).data?.sentAt;
        if (typeof sentAt === 'number') latencies.set(path, [...(latencies.get(path) ?? []), Date.now() - sentAt]);
      } catch {
        // not an envelope: not measured
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    at: (path: string) => latencies.get(path) ?? [],
    stop: () => new Promise<void>((ok) => (server.closeAllConnections(), server.close(() => ok()))),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, timeoutMs = 10 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function main() {
  const stack = await startBenchStack('hostile-expression', TASK_QUEUE, '');
  const { client, config, worker } = stack;
  const { tier } = stack.temporal;
  const receiver = await startReceiver();
  const store = new SubscriptionStore(client, TASK_QUEUE, requireKeyring(config, 'the bench'));
  const run = Date.now().toString(36);

  const subscribe = (id: string, path: string, extra: Record<string, unknown>) =>
    store.create(
      createSubscriptionSchema.parse({
        id,
        name: id,
        contactEmail: 'bench@example.com',
        url: `${receiver.url}${path}`,
        secret: 'sub-secret',
        triggers: ['shop.*'],
        signature: 'x-signature',
        retryPolicy: 'none',
        ...extra,
      }),
    );
  const normal = await subscribe(`normal-${run}`, '/normal', {});
  const cheap = await subscribe(`cheap-${run}`, '/cheap', { transform: { body: CHEAP_BODY } });
  const hostile = await subscribe(`hostile-${run}`, '/hostile', { transform: { body: HOSTILE_BODY } });

  /** RATE events/s for SECONDS, each started for every subscription in `to` at once. */
  async function stream(phase: string, to: Subscription[]) {
    const n = RATE * SECONDS;
    const before = sampleProcess(worker.pid!);
    const startedAt = Date.now();
    const starts: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 1) {
      await sleep(Math.max(0, startedAt + (i * 1000) / RATE - Date.now()));
      const event: OutboundEvent = {
        id: `api/${run}-${phase}-${i}`,
        uuid: randomUUID(),
        type: 'shop.OrderPaid',
        occurredAt: new Date().toISOString(),
        data: { orderNumber: `SO-${i}`, sentAt: Date.now() },
      };
      for (const sub of to)
        starts.push(
          client.workflow.start('deliveryWorkflow', {
            ...deliveryStartOptions(
              {
                subscriptionId: sub.id,
                workflowId: deliveryWorkflowId(event.id, sub.id),
                schedule: deliverySchedule(sub, config),
              },
              event,
            ),
            taskQueue: TASK_QUEUE,
          }),
        );
    }
    await Promise.all(starts);
    return { n, before };
  }

  const alone = await stream('alone', [normal]);
  await until(() => receiver.at('/normal').length >= alone.n, `${alone.n} deliveries alone`);
  const aloneStats = {
    ...summarize(receiver.at('/normal')),
    workerCpuPercent: cpuPercent(alone.before, sampleProcess(worker.pid!)),
  };
  console.log('alone', aloneStats);

  const control = await stream('control', [normal, cheap]);
  await until(
    () => receiver.at('/normal').length >= alone.n + control.n,
    `${control.n} deliveries beside the cheap one`,
  );
  await until(() => receiver.at('/cheap').length >= control.n, `${control.n} cheap transformations`);
  const besideCheap = {
    ...summarize(receiver.at('/normal').slice(alone.n)),
    workerCpuPercent: cpuPercent(control.before, sampleProcess(worker.pid!)),
  };
  console.log('beside cheap', besideCheap);

  const mixed = await stream('mixed', [normal, hostile]);
  const sent = alone.n + control.n + mixed.n;
  await until(() => receiver.at('/normal').length >= sent, `${mixed.n} deliveries beside the hostile one`);
  const beside = receiver.at('/normal').slice(alone.n + control.n);
  const besideStats = { ...summarize(beside), workerCpuPercent: cpuPercent(mixed.before, sampleProcess(worker.pid!)) };
  console.log('beside hostile', besideStats);

  const results = {
    bench: 'hostile-expression',
    tier,
    at: new Date().toISOString(),
    rate: RATE,
    seconds: SECONDS,
    hostileBody: HOSTILE_BODY,
    hostileRequestsReceived: receiver.at('/hostile').length, // 0: every one fails with TransformFailed
    alone: aloneStats,
    besideCheap,
    besideHostile: besideStats,
    /** Beside the hostile transformation against alone. */
    ratio: {
      p50: Math.round((besideStats.p50 / aloneStats.p50) * 100) / 100,
      p95: Math.round((besideStats.p95 / aloneStats.p95) * 100) / 100,
    },
    /** Beside the hostile transformation against beside the cheap one: the same load but for the expression. */
    ratioToCheap: {
      p50: Math.round((besideStats.p50 / besideCheap.p50) * 100) / 100,
      p95: Math.round((besideStats.p95 / besideCheap.p95) * 100) / 100,
    },
  };
  console.log('ratio', results.ratio, 'to cheap', results.ratioToCheap);
  writeResults('hostile-expression', tier, results);
  await receiver.stop();
  await stack.stop();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
