import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Subject CN of the client certificate, for mutual TLS. */
  clientCertCN?: string;
  receivedAt: number;
}

export type Responder = (
  request: RecordedRequest,
) =>
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | Promise<{ status: number; body?: unknown; headers?: Record<string, string> }>;

/**
 * A real HTTP peer on loopback (a source's API, or a webhook receiver): answers with the responder set
 * for a path (or the default) and records every request.
 */
export class FakeHttpPeer {
  readonly requests: RecordedRequest[] = [];
  private readonly responders = new Map<string, Responder>();
  private server?: Server;
  url = '';

  constructor(
    private fallback: Responder = () => ({ status: 404, body: { error: 'not found' } }),
    private readonly tls?: HttpsOptions,
  ) {}

  on(path: string, responder: Responder): this {
    this.responders.set(path, responder);
    return this;
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = this.tls ? createHttpsServer(this.tls, handler) : createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `${this.tls ? 'https://localhost' : 'http://127.0.0.1'}:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.url.split('?')[0] === path);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const socket = req.socket as TLSSocket;
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
      clientCertCN: peer?.subject?.CN as string | undefined,
      receivedAt: Date.now(),
    };
    this.requests.push(recorded);
    const responder = this.responders.get(recorded.url.split('?')[0] ?? '/') ?? this.fallback;
    if (res.destroyed) return;
    const answer = await responder(recorded);
    const isJson = answer.body !== undefined && typeof answer.body !== 'string';
    res.writeHead(answer.status, { ...(isJson ? { 'content-type': 'application/json' } : {}), ...answer.headers });
    res.end(answer.body === undefined ? undefined : isJson ? JSON.stringify(answer.body) : String(answer.body));
  }
}
