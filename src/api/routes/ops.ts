import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import type { HookflowConfig } from '../../config/schema';
import { UnauthorizedError } from '../../errors';
import { metricsRoute } from '../../observability/http-metrics';
import { verifyToken } from '../../signing/credentials';
import { readinessRoutes } from './health';

/**
 * The operator's routes: `/metrics`, `/readyz` and `/docs` (OpenAPI UI, JSON at `/docs/json`). They
 * reveal source ids and every route, so production serves them on their own listener
 * (`server.ops.port`, see src/api/server.ts) and/or behind `server.ops.token`
 * (`Authorization: Bearer <token>`); without either they are served, open, on the API port (development).
 */
export const opsRoutes: FastifyPluginAsync<{ config: HookflowConfig; client: Client }> = async (
  app,
  { config, client },
) => {
  const token = config.server.ops.token;
  if (token) {
    app.addHook('onRequest', async (request) => {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!verifyToken(given, token)) {
        request.log.warn(
          { clientAddress: request.ip, url: request.url.split('?')[0] },
          'ops route: missing or wrong bearer token',
        );
        throw new UnauthorizedError('a valid ops bearer token is required (server.ops.token)');
      }
    });
  }
  metricsRoute(app);
  await app.register(readinessRoutes, { client });
  await app.register(swaggerUi, { routePrefix: '/docs' });
};
