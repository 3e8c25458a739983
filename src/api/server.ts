import { loadConfig } from '../config/load';
import type { HookflowConfig } from '../config/schema';
import { logLevel, loggerOptions, type HookflowLoggerOptions } from '../observability/logger';
import { createApiClient } from '../temporal/client';
import { buildApp, type HookflowApp } from './app';

export interface RunningApi {
  app: HookflowApp;
  url: string;
  close(): Promise<void>;
}

/** Builds the app around a lazy Temporal client (the API starts, and answers 503, while Temporal is down) and listens. */
export async function startApi(config: HookflowConfig, logger: HookflowLoggerOptions = loggerOptions(logLevel(config))): Promise<RunningApi> {
  const { client, connection } = createApiClient(config);
  const app = await buildApp({ config, client, logger });
  // Idle keep-alive connections outlive a load balancer's usual 60 s idle timeout, so the proxy closes
  // them first (never reusing one we are closing: a 502). Sockets that go quiet mid-request are dropped
  // once the whole-request budget (requestTimeout, checked by Fastify) has clearly passed.
  app.server.keepAliveTimeout = 65_000;
  app.server.setTimeout(config.server.requestTimeout + 5_000);
  const url = await app.listen({ host: config.server.host, port: config.server.port });
  return {
    app,
    url,
    async close() {
      await app.close(); // stops accepting, lets in-flight requests finish
      await connection.close();
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
