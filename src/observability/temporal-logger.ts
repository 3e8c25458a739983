import type { LogLevel as TemporalLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { LogLevel } from './logger';

/** The SDK's Logger interface on top of pino: worker, workflow (via sinks) and activity logs come out as JSON lines. */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly pino: Logger) {}

  log(level: TemporalLevel, message: string, meta?: LogMetadata): void {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    this.pino[method]({ ...meta }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
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
      logger: new PinoTemporalLogger(logger),
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
