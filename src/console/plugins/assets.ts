import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const dir = join(__dirname, '..', 'assets');
const asset = (file: string, type: string) => ({ type, body: readFileSync(join(dir, file)) });

/** The console's stylesheet, script and icon, read once at start-up; served without a session. */
export async function consoleAssets(app: FastifyInstance) {
  const assets: Record<string, { type: string; body: Buffer } | undefined> = {
    'console.css': asset('console.css', 'text/css; charset=utf-8'),
    'console.js': asset('console.js', 'text/javascript; charset=utf-8'),
  };
  const favicon = asset('favicon.svg', 'image/svg+xml');

  app.get('/console/assets/:name', async (request, reply) => {
    const found = assets[(request.params as { name: string }).name];
    if (!found) return reply.consoleNotFound();
    return reply.type(found.type).header('cache-control', 'public, max-age=300').send(found.body);
  });

  // Linked from the layout, so browsers do not ask for a /favicon.ico that is not there.
  app.get('/console/favicon.svg', async (_request, reply) =>
    reply.type(favicon.type).header('cache-control', 'public, max-age=300').send(favicon.body),
  );
}
