import cors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig } from '../../config/schema';
import { InvalidPayloadError, PayloadTooLargeError, UnauthorizedError, UnavailableError } from '../../errors';
import { KeyringError } from '../../security/keyring';
import { cidrBlockList } from '../../security/ssrf';
import { verifyToken } from '../../signing/credentials';

/** The Web UI's codec request and response body: payloads in protobuf JSON form, bytes as base64. */
const jsonPayloads = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() })),
});
type JsonPayload = z.infer<typeof jsonPayloads>['payloads'][number];

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: data !== undefined ? Buffer.from(data, 'base64') : undefined,
});

const toJson = ({ metadata, data }: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: data ? Buffer.from(data).toString('base64') : undefined,
});

/**
 * Codec requests in flight at once, and their bytes (Content-Length; a chunked body counts as `maxBytes`):
 * encoding and decoding large payloads is CPU work on the API's event loop, so beyond these the codec
 * answers 503 + Retry-After and health checks and webhooks keep their latency. One request is always let
 * through, whatever its size (up to `maxBytes`).
 */
export const CODEC_MAX_IN_FLIGHT = 2;
export const codecMaxBytesInFlight = (maxBytes: number) => 2 * maxBytes;

/** Headers a reverse proxy adds: their presence means request.ip is the proxy's address, not the client's. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/**
 * Codec endpoint for the Temporal Web UI (`temporal server start-dev --ui-codec-endpoint
 * http://127.0.0.1:3000/codec`): the browser posts encrypted payloads and gets them back readable.
 * Access: CORS only for the configured UI origins; with `security.codec.token` set, a bearer token
 * is required; without one, only clients in `security.codec.clientNetworks` (default loopback: the
 * browser of the local UI) are answered, and not through a proxy. Bounded: `security.codec.maxPayloads`
 * payloads and `maxBytes` bytes per request (413); undecodable input is 400.
 */
export const codecRoutes: FastifyPluginAsyncZod<{ config: HookflowConfig; codec: PayloadCodec }> = async (
  app,
  { config, codec },
) => {
  const settings = config.security?.codec;
  const maxPayloads = settings?.maxPayloads ?? 500;
  const maxBytes = settings?.maxBytes ?? 4 * 1024 * 1024;
  const origins = new Set(settings?.corsOrigins ?? []);
  const clientNetworks = cidrBlockList(settings?.clientNetworks ?? ['127.0.0.0/8', '::1/128']);
  const fromClientNetwork = (ip: string) =>
    clientNetworks.check(
      ip.replace(/^::ffff:(?=\d+\.)/, ''),
      ip.includes(':') && !/^::ffff:\d/.test(ip) ? 'ipv6' : 'ipv4',
    );
  await app.register(cors, {
    origin: (origin, done) => done(null, origin !== undefined && origins.has(origin)),
    methods: ['POST'],
    allowedHeaders: ['content-type', 'x-namespace', 'authorization'],
    credentials: true,
    maxAge: 600,
  });

  app.addHook('onRequest', async (request) => {
    if (request.method === 'OPTIONS') return;
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin))
      throw new UnauthorizedError(`origin ${origin} may not use the codec`);
    if (settings?.token) {
      const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!verifyToken(given, settings.token)) throw new UnauthorizedError('the codec needs a valid bearer token');
    } else if (PROXY_HEADERS.some((h) => request.headers[h] !== undefined)) {
      // Behind a reverse proxy every client has the proxy's address (often loopback): only a token tells them apart.
      throw new UnauthorizedError('a request through a proxy needs security.codec.token');
    } else if (!fromClientNetwork(request.ip)) {
      throw new UnauthorizedError('without security.codec.token the codec answers security.codec.clientNetworks only');
    }
  });

  // After the access check above: refused callers never take a slot.
  const maxBytesInFlight = codecMaxBytesInFlight(maxBytes);
  let inFlight = 0;
  let bytesInFlight = 0;
  const slots = new WeakMap<FastifyRequest, () => void>();
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return;
    const length = Number(request.headers['content-length']);
    const bytes = Number.isFinite(length) && length >= 0 ? Math.min(length, maxBytes) : maxBytes;
    if (inFlight > 0 && (inFlight >= CODEC_MAX_IN_FLIGHT || bytesInFlight + bytes > maxBytesInFlight))
      throw new UnavailableError(
        `the codec is busy (${inFlight} requests, ${bytesInFlight} bytes in flight); retry in a second`,
        1,
      );
    inFlight += 1;
    bytesInFlight += bytes;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight -= 1;
      bytesInFlight -= bytes;
    };
    slots.set(request, release);
    // 'close': also when the connection goes away before an answer.
    reply.raw.once('close', release);
  });
  app.addHook('onResponse', async (request) => slots.get(request)?.());

  const route = (name: 'encode' | 'decode') =>
    app.post(
      `/codec/${name}`,
      {
        bodyLimit: maxBytes,
        // Counted before the schema validates each payload: 60,000 tiny ones must cost nothing.
        preValidation: async (request) => {
          const payloads = (request.body as { payloads?: unknown } | undefined)?.payloads;
          if (Array.isArray(payloads) && payloads.length > maxPayloads) {
            throw new PayloadTooLargeError(
              `${payloads.length} payloads in one request; at most ${maxPayloads} (security.codec.maxPayloads)`,
            );
          }
        },
        schema: {
          tags: ['codec'],
          summary: `Temporal Web UI remote codec: ${name} payloads`,
          body: jsonPayloads,
          response: { 200: jsonPayloads },
        },
      },
      async (request) => {
        const { payloads } = request.body;
        let converted: Payload[];
        try {
          converted = await codec[name](payloads.map(fromJson));
        } catch (err) {
          // Garbage in (bad ciphertext, an unknown key id, bytes that are not a payload): the caller's fault.
          throw new InvalidPayloadError(
            `cannot ${name} the payloads: ${err instanceof KeyringError ? err.message : 'not a valid payload'}`,
          );
        }
        return { payloads: converted.map(toJson) };
      },
    );
  route('encode');
  route('decode');
};
