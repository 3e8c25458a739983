import { loadConfig } from '../config/load';
import type { HookflowConfig } from '../config/schema';
import { logLevel, loggerOptions, type HookflowLoggerOptions } from '../observability/logger';
import { startTracing } from '../observability/tracing';
import { createApiClient } from '../temporal/client';
import { buildApp, buildOpsApp, type HookflowApp } from './app';

export interface RunningApi {
  app: HookflowApp;
  url: string;
  /** The ops listener (server.ops.port): /metrics, /readyz, /docs. */
  ops?: Awaited<ReturnType<typeof buildOpsApp>>;
  opsUrl?: string;
  close(): Promise<void>;
}

/** Builds the app around a lazy Temporal client (the API starts, and answers 503, while Temporal is down) and listens. */
export async function startApi(
  config: HookflowConfig,
  logger: HookflowLoggerOptions = loggerOptions(logLevel(config)),
): Promise<RunningApi> {
  const tracing = startTracing(); // OTEL_* variables; off without an OTLP endpoint
  const { client, connection } = createApiClient(config, tracing);
  const app = await buildApp({ config, client, logger, tracing });
  // Timeouts (headers, request, idle, keep-alive): serverTimeouts() in app.ts.
  const url = await app.listen({ host: config.server.host, port: config.server.port });
  const { port: opsPort, host: opsHost } = config.server.ops;
  const ops = opsPort === undefined ? undefined : await buildOpsApp({ config, client, logger, api: app });
  const opsUrl = ops ? await ops.listen({ host: opsHost, port: opsPort }) : undefined;
  return {
    app,
    url,
    ops,
    opsUrl,
    async close() {
      await ops?.close();
      await app.close(); // stops accepting, lets in-flight requests finish
      await connection.close();
      await tracing?.close(); // exports the spans still batched
    },
  };
}

if (require.main === module) {
  const main = async () => {
    const api = await startApi(loadConfig());
    let closing = false;
    const close = (signal: string) => {
      if (closing) return;
      closing = true;
      api.app.log.info({ signal }, 'shutting down');
      api.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => close('SIGINT'));
    process.on('SIGTERM', () => close('SIGTERM'));
  };
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
