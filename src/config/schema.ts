import { z } from 'zod';
import { DURATION_BOUNDS as BOUNDS, isoDuration } from './duration';
import { sourceConfigSchema } from '../sources';
import { createSubscriptionSchema } from '../subscriptions/schema';
import { triggerProblem } from '../subscriptions/triggers';

const encryptionKey = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'use letters, digits, - and _'),
  key: z
    .string()
    .refine(
      (b64) => Buffer.from(b64, 'base64').length === 32,
      'must be base64 of 32 random bytes (openssl rand -base64 32)',
    ),
});

const configFields = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(3000),
      bodyLimitBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
      /** Upper bound for Temporal to accept a workflow start before the front door answers 503. */
      ackTimeout: isoDuration('PT5S', BOUNDS.ackTimeout),
      /** Whole-request timeout, headers and body (slow clients get 408; checked every second at most). */
      requestTimeout: isoDuration('PT30S', BOUNDS.requestTimeout),
      /** Time a client has to send the request headers (at most requestTimeout). */
      headersTimeout: isoDuration('PT10S', BOUNDS.headersTimeout),
      /**
       * Default per-source rate limit, counted in notifications of authenticated requests; sources may set
       * their own. A source over it gets 429 with Retry-After. Unauthenticated requests never count here.
       */
      rateLimit: z
        .strictObject({
          max: z.number().int().positive().default(1200),
          window: isoDuration('PT1M', BOUNDS.rateWindow),
        })
        .prefault({}),
      /**
       * Per client address: requests refused as unauthenticated (401) or for an unknown source (404). Over
       * it the address's failing requests get 429; requests with valid credentials are always served. Behind
       * a reverse proxy, list it in `trustedProxies` so that the client's own address is counted.
       */
      authFailureLimit: z
        .strictObject({
          max: z.number().int().positive().default(100),
          window: isoDuration('PT1M', BOUNDS.rateWindow),
        })
        .prefault({}),
      /**
       * Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client: the failure limit
       * and the logs then see the client's address. From any other peer the header is ignored.
       */
      trustedProxies: z.array(z.string().min(1)).max(100).default([]),
      envelopes: z
        .strictObject({
          /** Requests with more notifications are accepted with one durable start of an envelope workflow that starts them. */
          splitAbove: z.number().int().min(1).default(100),
          /** More notifications in one request: 413 (permanent). */
          maxNotifications: z.number().int().min(1).max(50_000).default(20_000),
        })
        .prefault({}),
      /**
       * /metrics, /readyz and /docs. Development: on the API port, open. Production: a separate listener
       * (`port`, on `host`) that the webhook port does not serve, and/or a bearer `token`.
       */
      ops: z
        .strictObject({
          port: z.number().int().min(0).max(65535).optional(),
          host: z.string().default('127.0.0.1'),
          token: z.string().min(16, 'use at least 16 characters').optional(),
        })
        .prefault({}),
    })
    .refine((server) => server.headersTimeout <= server.requestTimeout, {
      path: ['headersTimeout'],
      message: 'must not exceed server.requestTimeout',
    })
    .prefault({}),
  temporal: z
    .strictObject({
      address: z.string().default('localhost:7233'),
      namespace: z.string().default('default'),
      taskQueue: z.string().default('hookflow'),
      /** Worker's workflow cache (sticky executions kept in memory): bounds its memory with many parked deliveries (docs/performance.md). */
      maxCachedWorkflows: z.number().int().min(0).default(200),
    })
    .prefault({}),
  security: z
    .strictObject({
      /** AES-256-GCM keys, newest first: seals subscription secrets and encrypts Temporal payloads. */
      encryptionKeys: z.array(encryptionKey).min(1),
      /** Encrypt every Temporal payload (inputs, results, queries, updates) with the payload codec. */
      encryptPayloads: z.boolean().default(true),
      codec: z
        .strictObject({
          /** Browser origins of the Temporal Web UI allowed to call /codec/* (CORS). */
          corsOrigins: z
            .array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin such as http://localhost:8233'))
            .default(['http://localhost:8233', 'http://127.0.0.1:8233']),
          /** When set, /codec/* needs `Authorization: Bearer <token>` (the UI's codec "pass access token" setting). */
          token: z.string().min(16).optional(),
          /**
           * Without a token, only clients in these networks are answered (the browser running the local UI).
           * Behind a reverse proxy every client has the proxy's address (often loopback): set `token` there.
           * Requests that carry proxy headers (Forwarded, X-Forwarded-For, X-Real-IP) need the token anyway.
           */
          clientNetworks: z.array(z.string()).default(['127.0.0.0/8', '::1/128']),
          /** Payloads per /codec request (the Web UI sends a few at a time); more: 413. */
          maxPayloads: z.number().int().min(1).max(10_000).default(500),
          /** Body size of a /codec request in bytes; more: 413. */
          maxBytes: z
            .number()
            .int()
            .min(1024)
            .default(4 * 1024 * 1024),
        })
        .prefault({}),
    })
    .optional(),
  /**
   * SSRF guard for callback and follow-up URLs: after DNS resolution, loopback, private, link-local and
   * cloud-metadata addresses are refused unless listed here (CIDRs such as 127.0.0.0/8, or host names).
   */
  network: z.strictObject({ allow: z.array(z.string().min(1)).default([]) }).prefault({}),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Port of the worker's own /metrics (the API serves /metrics on its port). 0 = off. */
      workerPort: z.number().int().min(0).max(65535).default(9464),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** Bearer token for the admin API under /api. Without it the admin API is disabled. */
      token: z.string().min(16, 'use at least 16 characters'),
    })
    .optional(),
  /** The web console at /console (signed in with admin.token); its links go to this Temporal Web UI. */
  console: z
    .strictObject({ temporalUiUrl: z.url({ protocol: /^https?$/ }).default('http://localhost:8233') })
    .prefault({}),
  delivery: z
    .strictObject({
      /** The `one-day` retry policy: exponential backoff inside a window (docs/subscriptions.md, "Retry policies"). */
      oneDay: z
        .strictObject({
          initialInterval: isoDuration('PT1M', BOUNDS.retryInterval),
          backoffCoefficient: z.number().min(1).max(10).default(2),
          maximumInterval: isoDuration('PT2H', BOUNDS.retryInterval),
          window: isoDuration('P1D', BOUNDS.retryWindow),
        })
        .prefault({}),
      /** Lanes of subscriptions with `ordering: entity` (docs/beyond-delivery.md, "Ordered delivery per entity"). */
      ordering: z
        .strictObject({
          /** An event waits until it is this old before its lane sends it, so an earlier one still being handed off goes first. */
          settle: isoDuration('PT2S', BOUNDS.orderingSettle),
          /** A lane with nothing to do for this long ends; the next event starts it again. */
          idle: isoDuration('PT1M', BOUNDS.orderingIdle),
          /** The longest a lane waits for an earlier event still being enriched (the follow-up fetch retries for 30 minutes). */
          maxHold: isoDuration('PT35M', BOUNDS.orderingMaxHold),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Health of subscriptions and alerts on its changes (docs/operations.md, "Is anything failing?"). */
  alerts: z
    .strictObject({
      /** E-mail to a subscription's contact address when it starts failing and when it recovers. Off when absent. */
      email: z
        .strictObject({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65535).default(587),
          /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
          secure: z.boolean().default(false),
          auth: z.strictObject({ user: z.string().min(1), pass: z.string().min(1) }).optional(),
          /** The sender, e.g. `hookflow <hookflow@example.com>`. */
          from: z.string().min(3),
        })
        .optional(),
      /** How often a failing subscription is checked for a recovery. */
      healthCheckInterval: isoDuration('PT15S'),
      /** How long a recovered subscription's health workflow stays before it ends. */
      recoveredGrace: isoDuration('PT10M'),
    })
    .prefault({}),
  /** Subscriptions declared here are created or updated (by id) when the worker starts. */
  subscriptions: z.array(createSubscriptionSchema).default([]),
  sources: z
    .array(sourceConfigSchema)
    .default([])
    .superRefine((sources, ctx) => {
      const seen = new Set<string>();
      sources.forEach((s, i) => {
        if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate source id "${s.id}"` });
        seen.add(s.id);
      });
    }),
});

/** The config file; a trigger named after a configured source id matches nothing (events are named by kind). */
export const configSchema = configFields.superRefine((config, ctx) => {
  config.subscriptions.forEach((subscription, i) =>
    subscription.triggers.forEach((trigger, j) => {
      const problem = triggerProblem(trigger, config.sources);
      if (problem) ctx.addIssue({ code: 'custom', path: ['subscriptions', i, 'triggers', j], message: problem });
    }),
  );
});

export type HookflowConfig = z.output<typeof configSchema>;
