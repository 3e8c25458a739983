import cors from '@fastify/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HookflowConfig } from '../../config/schema';
import { UnauthorizedError } from '../../errors';
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
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: data ? Buffer.from(data).toString('base64') : undefined,
});


/**
 * Codec endpoint for the Temporal Web UI (`temporal server start-dev --ui-codec-endpoint
 * http://127.0.0.1:3000/codec`): the browser posts encrypted payloads and gets them back readable.
 * Access: CORS only for the configured UI origins; with `security.codec.token` set, a bearer token
 * is required; without one, only clients in `security.codec.clientNetworks` (default loopback: the
 * browser of the local UI) are answered.
 */
export const codecRoutes: FastifyPluginAsyncZod<{ config: HookflowConfig; codec: PayloadCodec }> = async (app, { config, codec }) => {
  const settings = config.security?.codec;
  const origins = new Set(settings?.corsOrigins ?? []);
  const clientNetworks = cidrBlockList(settings?.clientNetworks ?? ['127.0.0.0/8', '::1/128']);
  const fromClientNetwork = (ip: string) => clientNetworks.check(ip.replace(/^::ffff:(?=\d+\.)/, ''), ip.includes(':') && !/^::ffff:\d/.test(ip) ? 'ipv6' : 'ipv4');
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
    if (origin !== undefined && !origins.has(origin)) throw new UnauthorizedError(`origin ${origin} may not use the codec`);
    if (settings?.token) {
      const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!verifyToken(given, settings.token)) throw new UnauthorizedError('the codec needs a valid bearer token');
    } else if (!fromClientNetwork(request.ip)) {
      throw new UnauthorizedError('without security.codec.token the codec answers security.codec.clientNetworks only');
    }
  });

  const route = (name: 'encode' | 'decode') =>
    app.post(`/codec/${name}`, { schema: { tags: ['codec'], summary: `Temporal Web UI remote codec: ${name} payloads`, body: jsonPayloads, response: { 200: jsonPayloads } } }, async (request) => ({
      payloads: (await codec[name](request.body.payloads.map(fromJson))).map(toJson),
    }));
  route('encode');
  route('decode');
};
