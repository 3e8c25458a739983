import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_CONTENT_TYPE, defaultRegistry, renderMetrics } from './metrics';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The worker has no HTTP API, so its metrics get a tiny server of their own: `GET /metrics` only.
 * Loopback by default: scraping is for a local agent or a sidecar, not the internet.
 */
export async function startMetricsServer(
  port: number,
  host = '127.0.0.1',
  registry: Registry = defaultRegistry,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    renderMetrics(registry).then(
      (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // scrapers keep connections alive; do not hold up shutdown
      }),
  };
}
