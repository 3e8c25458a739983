import type { LogLevel as TemporalLevel } from '@temporalio/common';
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { LogLevel } from './logger';

/** The SDK's logger writing to pino (which filters by level): worker, workflow (via sinks) and activity logs come out as JSON lines. */
function pinoTemporalLogger(pino: Logger): DefaultLogger {
  return new DefaultLogger('TRACE', ({ level, message, meta }) =>
    pino[level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error']({ ...meta }, message),
  );
}

function coreLevel(level: LogLevel): TemporalLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR'; // error, fatal, silent: core has nothing stricter; pino drops the rest
  }
}

export interface RuntimeInstall {
  /** False when a Runtime already existed (tests install their own; a second worker in-process): it is left as it is. */
  installed: boolean;
  /** Where core's Prometheus exporter listens, when it was enabled here. */
  coreMetricsUrl?: string;
}

/**
 * Installs the Temporal Runtime (process-wide, once, before any NativeConnection) with pino as its
 * logger, core's native logs forwarded to it, and optionally core's Prometheus exporter.
 */
export function installTemporalRuntime(logger: Logger, level: LogLevel, coreMetricsAddress?: string): RuntimeInstall {
  if (Runtime._instance) return { installed: false };
  try {
    Runtime.install({
      logger: pinoTemporalLogger(logger),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: coreLevel(level) }), forward: {} },
        ...(coreMetricsAddress ? { metrics: { prometheus: { bindAddress: coreMetricsAddress } } } : {}),
      },
    });
  } catch (err) {
    // Lost a race with another install (or Runtime.instance()): the existing one is kept.
    logger.debug({ err }, 'temporal runtime already installed');
    return { installed: false };
  }
  return { installed: true, coreMetricsUrl: coreMetricsAddress ? `http://${coreMetricsAddress}/metrics` : undefined };
}
