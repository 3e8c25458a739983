import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { freePort } from '../observability/free-port';
import { SEARCH_ATTRIBUTE_TYPES } from '../shared/search-attributes';

export interface DevServerOptions {
  cli: string;
  /** Interface to bind; loopback unless told otherwise. */
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file for persistence; omitted = in memory. */
  dbFile?: string;
  namespace?: string;
  headless?: boolean;
  codecEndpoint?: string;
  /** `--dynamic-config-value` settings; defaults to DEV_SERVER_DYNAMIC_CONFIG. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** `--sqlite-pragma` settings (only with dbFile); defaults to DEV_SERVER_SQLITE_PRAGMAS. */
  sqlitePragmas?: Record<string, string>;
  /** Prometheus metrics of the server (`--metrics-port`); the bench reads its persistence counters. */
  metricsPort?: number;
  log?: (line: string) => void;
  /**
   * Stop the dev server when this process dies, even by SIGKILL: it runs under a watchdog shell that
   * holds a pipe from this process and stops the server (SIGTERM, SIGKILL after 10 s) at its EOF.
   * The CLI itself would keep running, holding its ports (`npm start` uses this).
   */
  dieWithParent?: boolean;
}

/**
 * The watchdog: `sh -c WATCHDOG <cli> <args...>`. Starts the CLI in the background, a watcher that
 * reads stdin (a pipe whose only writer is the parent) and stops the server at EOF, forwards SIGTERM,
 * and exits with the server's status. Everything is one process group (the shell leads it).
 */
const WATCHDOG = `
exec 3<&0 </dev/null
"$0" "$@" 3<&- &
server=$!
{
  while read -r _ <&3; do :; done
  kill -TERM "$server" 2>/dev/null
  i=0
  while kill -0 "$server" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$server" 2>/dev/null
} &
watcher=$!
exec 3<&-
trap 'kill -TERM "$server" 2>/dev/null' TERM INT HUP
while :; do
  wait "$server"; status=$?
  kill -0 "$server" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$status"
`;

/**
 * Dynamic config every dev server of hookflow runs with (`npm start`, the tests, the bench): what each
 * bought is in docs/performance.md.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string | number | boolean> = {
  // History reads its task queues at most 20 times a second by default: every task (workflow task,
  // activity, child start) waited ~40 ms in history before reaching matching (probe: 36-45 ms per hop).
  'history.transferProcessorMaxPollRPS': 1000,
  'history.timerProcessorMaxPollRPS': 1000,
  'history.visibilityProcessorMaxPollRPS': 1000,
  // An activity scheduled by a workflow task goes back to the same worker in the task's completion,
  // without a trip through matching.
  'system.enableActivityEagerExecution': true,
  // The CLI turns this on so that search attributes added at run time are usable at once; hookflow's are
  // written with the namespace before the server starts. On, every start, upsert and visibility write
  // read the cluster metadata from SQLite (31 reads per event), on the dev server's one connection.
  'system.forceSearchAttributesCacheRefreshOnRead': false,
  // Visibility APIs: 10 requests/s per namespace by default (the CLI raises it to 100); each event's
  // fan-out lists candidate subscriptions once, so this capped events/s on a production server.
  'frontend.namespaceRPS.visibility': 1000,
};

/**
 * SQLite settings of a dev server with a database file (`npm start`, the fault suite). SQLite's default
 * rollback journal syncs the journal and the database on every commit; a write-ahead log syncs once, and
 * `synchronous=full` keeps that sync, so a commit is on disk when Temporal acknowledges it (process crash
 * and power loss alike). Measured in docs/performance.md.
 */
export const DEV_SERVER_SQLITE_PRAGMAS: Record<string, string> = { journal_mode: 'wal', synchronous: 'full' };

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` with hookflow's search attributes registered, bound to loopback, and
 * waits until the namespace answers.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const ip = options.ip ?? '127.0.0.1';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.dbFile)
    for (const [name, value] of Object.entries(options.sqlitePragmas ?? DEV_SERVER_SQLITE_PRAGMAS))
      args.push('--sqlite-pragma', `${name}=${value}`);
  for (const [name, value] of Object.entries(options.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG))
    args.push('--dynamic-config-value', `${name}=${JSON.stringify(value)}`);
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  if (options.headless) args.push('--headless');
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) args.push('--search-attribute', `${name}=${type}`);

  // Own process group: Ctrl-C reaches us, and we stop Temporal last, after the API and the worker.
  const child = options.dieWithParent
    ? spawn('/bin/sh', ['-c', WATCHDOG, options.cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    : spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // SIGKILL reaches the whole group: under the watchdog, the shell alone would leave the server running.
  const killHard = () => {
    try {
      process.kill(options.dieWithParent ? -child.pid! : child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const killOnExit = killHard;
  process.once('exit', killOnExit);
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 200) output.shift();
      options.log?.(line);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

  const address = `${ip}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const early = await Promise.race([exited, new Promise<'running'>((res) => setTimeout(() => res('running'), 250))]);
    if (early !== 'running') throw new Error(`temporal dev server exited with ${early}:\n${output.join('\n')}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
      } finally {
        await connection.close();
      }
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        killHard();
        throw new Error(`temporal dev server not ready after 60 s: ${(err as Error).message}\n${output.join('\n')}`);
      }
    }
  }

  return {
    address,
    uiUrl: options.headless ? undefined : `http://${ip}:${uiPort}`,
    process: child,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(killHard, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
