import type { Logger } from 'pino';
import type { HookflowConfig } from '../config/schema';
import { createLogger, logLevel } from './logger';
import { setCoreMetricsUrl } from './metrics';
import { freePort } from './free-port';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import { installTemporalRuntime } from './temporal-logger';

export interface WorkerObservability {
  logger: Logger;
  /** Starts `GET /metrics` on `metrics.workerPort` (0 = off); a port in use is logged, not fatal. */
  serveMetrics(): Promise<MetricsServer | undefined>;
  close(): Promise<void>;
}

/**
 * Logging and metrics for the worker process. Call before the first NativeConnection: the Temporal
 * Runtime (logger, core metrics exporter) can only be configured before it exists.
 */
export async function startWorkerObservability(config: HookflowConfig): Promise<WorkerObservability> {
  const level = logLevel(config);
  const logger = createLogger(level);
  const port = config.metrics.workerPort;
  // Core's exporter gets its own loopback port; the worker's /metrics fetches it and appends it.
  const coreAddress = port ? `127.0.0.1:${await freePort()}` : undefined;
  const runtime = installTemporalRuntime(logger, level, coreAddress);
  if (runtime.coreMetricsUrl) setCoreMetricsUrl(runtime.coreMetricsUrl);

  let metrics: MetricsServer | undefined;
  return {
    logger,
    async serveMetrics() {
      if (!port) return undefined;
      try {
        metrics = await startMetricsServer(port);
        logger.info({ url: metrics.url }, 'worker metrics');
      } catch (err) {
        // Metrics are not worth refusing to process webhooks for (e.g. a second worker on this host).
        logger.warn({ err, port }, 'worker metrics server could not listen; continuing without it');
      }
      return metrics;
    },
    async close() {
      await metrics?.close();
      if (runtime.coreMetricsUrl) setCoreMetricsUrl(undefined);
    },
  };
}
