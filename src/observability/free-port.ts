import { createServer } from 'node:net';

/**
 * A TCP port on loopback that is free right now (the OS picks it), for a listener started next: the
 * worker's Temporal core metrics, the local dev server.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
