import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startApi } from '../api/server';
import { loadConfig } from '../config/load';
import { dataConverterFor } from '../temporal/data-converter';
import { startWorker } from '../worker';
import { startDevServer, type DevServer } from './dev-server';
import { processIdentity, removeDevServerRecord, stopStaleDevServer, writeDevServerRecord } from './stale-dev-server';
import { temporalCliPath } from './temporal-cli';

/**
 * The Quick start stack in one process tree: Temporal dev server (SQLite file under .data/, Web UI on
 * :8233), the worker and the API, with the example config. Ctrl-C stops all three, API first. If this
 * process is killed (even by SIGKILL) the dev server stops too; the next start stops one still running.
 * With TEMPORAL_ADDRESS set, an existing Temporal server is used instead of starting one.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  let devServer: DevServer | undefined;
  let recordFile: string | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    const dataDir = resolve(process.env.HOOKFLOW_DATA_DIR ?? '.data');
    mkdirSync(dataDir, { recursive: true });
    const [host, port] = config.temporal.address.split(':');
    // A start killed with SIGKILL: its dev server's watchdog stops it, but it may still be shutting
    // down (or, without the watchdog, running): stop it rather than fail on "address already in use".
    const dbFile = resolve(dataDir, 'temporal.sqlite');
    recordFile = resolve(dataDir, 'dev-server.json');
    const stale = await stopStaleDevServer(recordFile, dbFile);
    if (stale) console.log(stale);
    devServer = await startDevServer({
      cli: temporalCliPath(),
      ip: host === 'localhost' ? '127.0.0.1' : host,
      port: Number(port ?? 7233),
      uiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
      dbFile,
      dieWithParent: true,
      namespace: config.temporal.namespace,
      // The Web UI decodes the encrypted payloads through the API's codec endpoint.
      codecEndpoint: dataConverterFor(config)
        ? `http://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${config.server.port}/codec`
        : undefined,
    });
    const owner = processIdentity(process.pid);
    const server = processIdentity(devServer.process.pid!);
    if (owner && server) writeDevServerRecord(recordFile, { owner, server, dbFile });
    config.temporal.address = devServer.address;
    // The console links to the Web UI this dev server serves.
    if (devServer.uiUrl) config.console.temporalUiUrl = devServer.uiUrl;
  }
  const worker = await startWorker(config);
  const api = await startApi(config);

  console.log(`\nhookflow is running`);
  console.log(`  API          ${api.url}   (webhooks: ${api.url}/webhooks/<sourceId>)`);
  const opsUrl = api.opsUrl ?? api.url; // server.ops.port: /docs, /metrics and /readyz have their own listener
  console.log(`  API docs     ${opsUrl}/docs`);
  // One process: the API's /metrics shares the worker's registry, so it shows both (and Temporal core's).
  console.log(`  Metrics      ${opsUrl}/metrics${worker.metricsUrl ? `   (worker alone: ${worker.metricsUrl})` : ''}`);
  if (devServer?.uiUrl)
    console.log(
      `  Temporal UI  ${devServer.uiUrl}${dataConverterFor(config) ? "   (payloads decoded by the API's /codec)" : ''}`,
    );
  if (config.admin) console.log(`  Console      ${api.url}/console   (sign in with the admin token)`);
  if (config.admin)
    console.log(`  Admin token  ${process.env.HOOKFLOW_ADMIN_TOKEN_FILE ?? 'see admin.token in the config'}`);
  console.log(`  Temporal     ${config.temporal.address}  namespace ${config.temporal.namespace}`);
  console.log(`Press Ctrl-C to stop.\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping API, worker, Temporal...`);
    await api.close();
    await worker.shutdown();
    await devServer?.stop();
    if (recordFile) removeDevServerRecord(recordFile);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  worker.done.catch((err) => {
    console.error('worker stopped:', err);
    void stop('worker failure');
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
