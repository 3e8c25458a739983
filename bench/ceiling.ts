import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../src/observability/free-port';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/stack/dev-server';
import { temporalCliPath } from '../src/stack/temporal-cli';
import { idlePercent, machineTicks, perEvent, persistenceCounters, runConcurrent, summarize } from './stats';

/**
 * The raw Temporal ceiling of this machine, and where its CPU goes: the one-activity workflow
 * of the bench run by CEILING_WORKERS worker processes (default 1) at each of CEILING_LEVELS (default
 * 10,50), CEILING_N workflows each, with the CPU of the server, the workers and this process, and the
 * machine's idle time. CEILING_TEMPORAL_ADDRESS (+ CEILING_SERVER_PID, CEILING_SERVER_METRICS) measures a running server, e.g.
 * the PostgreSQL tier; CEILING_DC (JSON) is dynamic config over hookflow's. `node --import tsx bench/ceiling.ts`; prints JSON lines.
 */
const N = Number(process.env.CEILING_N ?? 400);
const LEVELS = (process.env.CEILING_LEVELS ?? '10,50').split(',').filter(Boolean).map(Number);
const WORKERS = Number(process.env.CEILING_WORKERS ?? 1);

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const external = process.env.CEILING_TEMPORAL_ADDRESS;
  const metricsPort = external ? undefined : await freePort();
  const server = external
    ? { address: external, stop: async () => undefined, process: undefined }
    : await startDevServer({
        cli: temporalCliPath(),
        headless: true,
        metricsPort,
        dynamicConfig: { ...DEV_SERVER_DYNAMIC_CONFIG, ...JSON.parse(process.env.CEILING_DC ?? '{}') },
      });
  const metrics =
    process.env.CEILING_SERVER_METRICS ?? (metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : undefined);
  const serverPid = Number(process.env.CEILING_SERVER_PID ?? server.process?.pid ?? 0) || undefined;
  const taskQueue = `ceiling-${randomUUID()}`;
  const workers: ChildProcess[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const child = fork(resolve(__dirname, 'raw-worker.ts'), {
      env: { ...process.env, TEMPORAL_ADDRESS: server.address, CEILING_TASK_QUEUE: taskQueue },
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
    });
    process.once('exit', () => child.kill('SIGKILL'));
    await new Promise<void>((ok, fail) => {
      child.once('message', () => ok());
      child.once('exit', (code) => fail(new Error(`raw worker exited with ${code}`)));
    });
    workers.push(child);
  }
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const execute = async () =>
    void (await client.workflow.execute('rawActivityWorkflow', { taskQueue, workflowId: randomUUID() }));
  await runConcurrent(100, 10, execute); // warm-up

  for (const c of LEVELS) {
    const before = { server: serverPid && sample(serverPid), workers: workers.map((w) => sample(w.pid!)) };
    const self0 = process.cpuUsage();
    const machine0 = machineTicks();
    const persistence0 = await persistenceCounters(metrics);
    const t0 = Date.now();
    const run = await runConcurrent(N, c, execute);
    const seconds = (Date.now() - t0) / 1000;
    const machine1 = machineTicks();
    const self1 = process.cpuUsage(self0);
    const pct = (cpuSeconds: number) => Math.round((cpuSeconds / seconds) * 1000) / 10;
    console.log(
      JSON.stringify({
        scenario: 'raw workflow + 1 no-op activity (execute)',
        server: external ? `external ${external}` : 'dev server, in-memory sqlite',
        workers: WORKERS,
        concurrency: c,
        wfPerSecond: run.perSecond,
        latency: summarize(run.latencies),
        persistencePerWorkflow: perEvent(persistence0, await persistenceCounters(metrics), N),
        cpuPercent: {
          server: before.server && serverPid ? pct(sample(serverPid).cpuSeconds - before.server.cpuSeconds) : null,
          workers: workers.map((w, i) => pct(sample(w.pid!).cpuSeconds - before.workers[i]!.cpuSeconds)),
          client: pct((self1.user + self1.system) / 1e6),
          machineIdle: idlePercent(machine0, machine1),
        },
      }),
    );
  }
  for (const w of workers) w.kill('SIGTERM');
  await connection.close();
  await server.stop();
  process.exit(0);
}

function sample(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
