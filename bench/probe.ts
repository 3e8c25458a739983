import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../src/stack/dev-server';
import { temporalCliPath } from '../src/stack/temporal-cli';
import { runConcurrent, summarize } from './stats';

/**
 * Where the time of one task dispatch goes: a dev server (PROBE_DC = JSON of dynamic config,
 * default hookflow's), a bare worker with the raw baselines, then
 *  1. the raw one-activity workflow at c=1, with scheduled -> started gaps per task from its history;
 *  2. queries of ONE workflow at concurrency 20: answered one at a time (through workflow tasks) or not.
 * `node --import tsx bench/probe.ts`. Prints JSON lines.
 */
const EventType = temporal.api.enums.v1.EventType;

async function main() {
  const dynamicConfig = process.env.PROBE_DC
    ? (JSON.parse(process.env.PROBE_DC) as Record<string, string | number | boolean>)
    : DEV_SERVER_DYNAMIC_CONFIG;
  const server = process.env.PROBE_TEMPORAL_ADDRESS
    ? { address: process.env.PROBE_TEMPORAL_ADDRESS, stop: async () => undefined }
    : await startDevServer({ cli: temporalCliPath(), headless: true, dynamicConfig });
  const taskQueue = `probe-${randomUUID()}`;
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const pollers = Number(process.env.PROBE_POLLERS ?? 0);
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities: { benchNoop: async () => undefined },
    ...(pollers
      ? {
          workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: pollers },
          activityTaskPollerBehavior: { type: 'simple-maximum', maximum: pollers },
        }
      : {}),
  } as Parameters<typeof Worker.create>[0]);
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });

  await runConcurrent(
    20,
    5,
    async () => void (await client.workflow.execute('rawActivityWorkflow', { taskQueue, workflowId: randomUUID() })),
  );
  const ids: string[] = [];
  const run = await runConcurrent(30, 1, async () => {
    const id = randomUUID();
    ids.push(id);
    await client.workflow.execute('rawActivityWorkflow', { taskQueue, workflowId: id });
  });
  const gaps: Record<string, number[]> = {};
  for (const id of ids) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const scheduled = new Map<string, number>();
    let wft = 0;
    for (const e of history.events ?? []) {
      const t = Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) scheduled.set('wft', t);
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)
        (gaps[`workflow task ${++wft}`] ??= []).push(t - scheduled.get('wft')!);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduled.set('at', t);
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
        (gaps['activity task'] ??= []).push(t - scheduled.get('at')!);
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) scheduled.set('wf', t);
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)
        (gaps['started -> completed (server)'] ??= []).push(t - scheduled.get('wf')!);
    }
  }
  console.log(
    JSON.stringify({
      probe: 'raw one-activity workflow, c=1',
      dynamicConfig,
      pollers,
      execute: summarize(run.latencies),
      perSecond: run.perSecond,
    }),
  );
  for (const [name, values] of Object.entries(gaps))
    console.log(JSON.stringify({ gap: `${name}: scheduled -> started (ms)`, ...summarize(values) }));

  for (const c of (process.env.PROBE_LEVELS ?? '10,50').split(',').map(Number)) {
    const load = await runConcurrent(
      Number(process.env.PROBE_N ?? 300),
      c,
      async () => void (await client.workflow.execute('rawActivityWorkflow', { taskQueue, workflowId: randomUUID() })),
    );
    console.log(
      JSON.stringify({
        probe: `raw one-activity workflow, c=${c}`,
        perSecond: load.perSecond,
        ...summarize(load.latencies),
      }),
    );
  }

  const target = await client.workflow.start('probeQueryTarget', { taskQueue, workflowId: randomUUID() });
  await target.query('get');
  const queries = await runConcurrent(200, 20, async () => void (await target.query('get')));
  console.log(
    JSON.stringify({
      probe: 'queries of one workflow, concurrency 20',
      perSecond: queries.perSecond,
      ...summarize(queries.latencies),
    }),
  );
  const describes = await runConcurrent(200, 20, async () => void (await target.describe()));
  console.log(
    JSON.stringify({
      probe: 'describe of one workflow, concurrency 20',
      perSecond: describes.perSecond,
      ...summarize(describes.latencies),
    }),
  );
  await target.terminate();

  worker.shutdown();
  await running;
  await connection.close();
  await nativeConnection.close();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
