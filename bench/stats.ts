import { readFileSync } from 'node:fs';
import { request } from 'undici';

/** Latency summary in milliseconds. */
export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    n: sorted.length,
    p50: round(at(50)),
    p95: round(at(95)),
    p99: round(at(99)),
    max: round(sorted.at(-1) ?? NaN),
  };
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight; returns per-task latency (ms) and wall time. */
export async function runConcurrent(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  const order: number[] = []; // order[k] = the task whose latency is latencies[k]
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        await task(i);
        latencies.push(performance.now() - t0);
        order.push(i);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { latencies, order, seconds, perSecond: Math.round((n / seconds) * 10) / 10 };
}

type Counters = Map<string, { count: number; seconds: number }>;

/**
 * The server's persistence requests and time per operation (Prometheus `persistence_requests`,
 * `persistence_latency`, and their `visibility_` twins, prefixed `visibility:`), and the frontend's
 * requests per API (`service_requests`, prefixed `frontend:`).
 */
export async function persistenceCounters(url: string | undefined): Promise<Counters | undefined> {
  if (!url) return undefined;
  const text = await (await request(url)).body.text();
  const counters: Counters = new Map();
  for (const line of text.split('\n')) {
    const m = /^(visibility_|service_)?(?:persistence_)?(requests|latency_sum)\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!m || (m[1] === 'service_' && !m[3]!.includes('service_name="frontend"'))) continue;
    const prefix = m[1] === 'visibility_' ? 'visibility:' : m[1] === 'service_' ? 'frontend:' : '';
    const operation = `${prefix}${/operation="([^"]+)"/.exec(m[3]!)?.[1] ?? '?'}`;
    const entry = counters.get(operation) ?? { count: 0, seconds: 0 };
    if (m[2] === 'requests') entry.count += Number(m[4]);
    else entry.seconds += Number(m[4]);
    counters.set(operation, entry);
  }
  return counters;
}

/**
 * Persistence operations per event between two snapshots, and the time they took (ms per event; the
 * six slowest operations by their time per event).
 */
export function perEvent(a: Counters | undefined, b: Counters | undefined, events: number) {
  if (!a || !b) return null;
  const ops: Record<string, number> = {};
  const msByOp: Array<[string, number]> = [];
  let total = 0;
  let ms = 0;
  for (const [operation, after] of b) {
    const count = after.count - (a.get(operation)?.count ?? 0);
    const opMs = ((after.seconds - (a.get(operation)?.seconds ?? 0)) * 1000) / events;
    if (!operation.startsWith('frontend:')) {
      ms += opMs;
      msByOp.push([operation, Math.round(opMs * 10) / 10]);
    }
    if (count <= 0) continue;
    ops[operation] = Math.round((count / events) * 100) / 100;
    if (!operation.startsWith('frontend:')) total += count / events;
  }
  const slowest = Object.fromEntries(msByOp.sort((x, y) => y[1] - x[1]).slice(0, 6));
  return { total: Math.round(total * 10) / 10, msPerEvent: Math.round(ms * 10) / 10, slowest, ops };
}

/** All CPUs' ticks and idle ticks (idle + iowait) from /proc/stat. */
export function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return { total: cpu.reduce((a, b) => a + b, 0), idle: cpu[3]! + cpu[4]! };
}

/** Percent of the machine's CPU time that was idle between two machineTicks() samples. */
export function idlePercent(a: ReturnType<typeof machineTicks>, b: ReturnType<typeof machineTicks>) {
  return Math.round(((b.idle - a.idle) / (b.total - a.total)) * 1000) / 10;
}

/** RSS and total CPU seconds of a process, from /proc. */
export function sampleProcess(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { rssMiB: Math.round(rssKiB / 102.4) / 10, cpuSeconds: ticks / 100, at: Date.now() };
}

/** Several processes as one: RSS and CPU summed. */
export function sampleProcesses(pids: number[]) {
  const samples = pids.map(sampleProcess);
  const sum = (f: (x: ReturnType<typeof sampleProcess>) => number) => samples.reduce((a, x) => a + f(x), 0);
  return { rssMiB: Math.round(sum((x) => x.rssMiB) * 10) / 10, cpuSeconds: sum((x) => x.cpuSeconds), at: Date.now() };
}

/** Percent of one core a process used between two samples. */
export function cpuPercent(a: ReturnType<typeof sampleProcess>, b: ReturnType<typeof sampleProcess>) {
  return Math.round(((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)) * 1000) / 10;
}
