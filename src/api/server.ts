import type { FastifyServerOptions } from 'fastify';
import { loadConfig } from '../config/load';
import type { HookflowConfig } from '../config/schema';
import { createApiClient } from '../temporal/client';
import { buildApp, type HookflowApp } from './app';

export interface RunningApi {
  app: HookflowApp;
  url: string;
  close(): Promise<void>;
}

/** Builds the app around a lazy Temporal client (the API starts, and answers 503, while Temporal is down) and listens. */
export async function startApi(config: HookflowConfig, logger: FastifyServerOptions['logger'] = { level: process.env.LOG_LEVEL ?? 'info' }): Promise<RunningApi> {
  const { client, connection } = createApiClient(config);
  const app = await buildApp({ config, client, logger });
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
