import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * OpenAPI 3 generated from the routes' zod schemas, served at /docs (JSON at /docs/json) by the ops
 * routes (src/api/routes/ops.ts). Register
 * before the routes: @fastify/swagger collects them in `onRoute`.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'hookflow',
        description:
          'Webhook hub on Temporal: inbound webhooks from source systems, admin API for subscriptions and events.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'admin.token from the config' } },
      },
    },
    // The admin API is behind bearer auth (the plugin is not visible to swagger, so it is declared here).
    transform: (document) => {
      const out = jsonSchemaTransform(document);
      return document.url.startsWith('/api/')
        ? { ...out, schema: { ...out.schema, security: [{ bearerAuth: [] }] } }
        : out;
    },
    transformObject: jsonSchemaTransformObject,
  });
}

/**
 * The document of `app` (built by `installOpenApi`) served by another instance, the ops listener:
 * @fastify/swagger in static mode, so the ops routes' /docs shows the API's routes.
 */
export async function serveOpenApiOf(ops: FastifyInstance, api: { swagger(): unknown }): Promise<void> {
  await ops.register(swagger, { mode: 'static', specification: { document: api.swagger() as never } });
}
