import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The cluster runs of bench/cluster.sh (the newest file of each workers/shards pair) as one Markdown
 * table: delivered/s of the open loop and raw one-activity workflows/s at C=10 and C=50, persistence
 * operations and CPU per event at C=10: the Temporal server, the workers, the API with the load
 * generator, and the rest of the machine's busy time (PostgreSQL, mostly), that is the machine's busy
 * CPU over the run less the three measured processes. `node --import tsx bench/cluster-table.ts [results dir]`.
 */
interface Open {
  concurrency: number;
  subscriptions: number;
  deliveredPerSecond: number;
  machineIdlePercent: number;
  persistencePerEvent: { total: number } | null;
  cpuMsPerEvent?: { server: number | null; workers: number; apiAndLoad: number };
}
interface Results {
  cpus: number;
  workers: number;
  historyShards: number;
  table: Array<{ scenario: string; concurrency: number; throughput: number }>;
  openLoops: Open[];
}

const dir = process.argv[2] ?? resolve(__dirname, 'results');
const newest = new Map<string, { file: string; results: Results }>();
for (const file of readdirSync(dir)
  .filter((f) => /^bench-.*-cluster-w\d+-s\d+\.json$/.test(f))
  .sort()) {
  const results = JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as Results;
  newest.set(`${results.workers}:${results.historyShards}`, { file, results });
}
const rows = [...newest.values()].sort(
  (a, b) => a.results.historyShards - b.results.historyShards || a.results.workers - b.results.workers,
);
const at = (r: Results, c: number) => ({
  open: r.openLoops.find((o) => o.subscriptions === 1 && o.concurrency === c),
  raw: r.table.find((t) => t.scenario.startsWith('raw workflow') && t.concurrency === c),
});
console.log(
  '| workers | shards | delivered/s C=10 (raw wf/s) | delivered/s C=50 (raw wf/s) | ops/event | CPU ms/event: server, workers, API, rest | idle | file |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
/** The machine's busy CPU per delivered event (ms), from its idle share over the open loop. */
const busyMsPerEvent = (r: Results, o: Open) =>
  ((1 - o.machineIdlePercent / 100) * r.cpus * 1000) / o.deliveredPerSecond;
for (const { file, results } of rows) {
  const ten = at(results, 10);
  const fifty = at(results, 50);
  const cpu = ten.open?.cpuMsPerEvent;
  const rest =
    ten.open && cpu?.server != null
      ? Math.round(busyMsPerEvent(results, ten.open) - cpu.server - cpu.workers - cpu.apiAndLoad)
      : '-';
  console.log(
    `| ${results.workers} | ${results.historyShards} | ${ten.open?.deliveredPerSecond ?? '-'} (${ten.raw?.throughput ?? '-'}) | ` +
      `${fifty.open?.deliveredPerSecond ?? '-'} (${fifty.raw?.throughput ?? '-'}) | ${ten.open?.persistencePerEvent?.total ?? '-'} | ` +
      `${cpu ? `${cpu.server ?? '-'}, ${cpu.workers}, ${cpu.apiAndLoad}, ${rest}` : '-'} | ${ten.open?.machineIdlePercent ?? '-'} % | ${file} |`,
  );
}
