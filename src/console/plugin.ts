import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import { Eta } from 'eta';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HookflowConfig } from '../config/schema';
import { HookflowError } from '../errors';
import { requireKeyring } from '../security/from-config';
import { RETRY_POLICIES, SIGNATURE_SCHEMES } from '../shared/subscription';
import { subscriptionIdSchema } from '../subscriptions/schema';
import { publicView, type SubscriptionView } from '../subscriptions/seal';
import { SubscriptionStore } from '../subscriptions/store';
import { retryDelivery } from '../api/routes/deliveries';
import { deliveriesQuery, failedLastDay, latestDeliveries, webUi } from './deliveries';
import {
  parseCreate,
  parseUpdate,
  readForm,
  valuesOf,
  withoutSecrets,
  type FieldErrors,
  type FormValues,
} from './form';

const SESSION_COOKIE = 'hookflow_console';
const SESSION_TTL_MS = 8 * 3600_000;
/** Whole form posts; one field is capped lower (form.ts MAX_FIELD_CHARS). */
const FORM_BODY_LIMIT = 256 * 1024;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The web console at /console: sign-in with the admin token, subscriptions (list, create, edit,
 * enable/disable, delete, Test) and each one's latest deliveries with Retry and links to the Temporal Web
 * UI. Server-rendered Eta templates; an encapsulated plugin, so its cookie, CSRF, form-body parser,
 * security headers and HTML error pages apply to /console only.
 */
export async function consoleRoutes(
  app: FastifyInstance,
  { config, client }: { config: HookflowConfig; client: Client },
) {
  if (!config.admin) {
    const disabled = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.status(404).type('text/plain').send('the console is disabled: set admin.token in the config');
    app.all('/console', disabled);
    app.all('/console/*', disabled);
    return;
  }
  const adminTokenHash = sha256(config.admin.token);
  const store = new SubscriptionStore(client, config.temporal.taskQueue, requireKeyring(config, 'the console'));
  const ui = webUi(config.console.temporalUiUrl, config.temporal.namespace);
  const eta = new Eta({ views: join(__dirname, 'templates'), autoEscape: true, cache: true });
  const assets = {
    'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(join(__dirname, 'assets', 'console.css')) },
    'console.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(join(__dirname, 'assets', 'console.js')),
    },
  };

  /** Sessions live in this process (sign in again after a restart); the cookie carries a random id only. */
  const sessions = new Map<string, number>();
  const sessionOf = (request: FastifyRequest): string | undefined => {
    const raw = request.cookies[SESSION_COOKIE];
    if (!raw) return undefined;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || !unsigned.value) return undefined;
    const expires = sessions.get(unsigned.value);
    if (!expires || expires < Date.now()) {
      sessions.delete(unsigned.value);
      return undefined;
    }
    return unsigned.value;
  };

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    // The console is served over http on a laptop too; HSTS is the TLS terminator's business.
    strictTransportSecurity: false,
  });
  await app.register(cookie, { secret: randomBytes(32).toString('base64') });
  const cookieOpts = {
    path: '/console',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: 'auto' as const,
    signed: true,
  };
  await app.register(csrf, { sessionPlugin: '@fastify/cookie', cookieKey: 'hookflow_console_csrf', cookieOpts });
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });
  // Scoped to the console (global: false): only routes with a rateLimit config are limited.
  await app.register(rateLimit, { global: false });
  void app.addHook('onSend', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
  });

  const render = (reply: FastifyReply, template: string, data: Record<string, unknown>, status = 200) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(eta.render(template, { signedIn: true, ...data }));

  // Every page and fragment but sign-in and the static assets needs the session; every post the CSRF token.
  const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!sessionOf(request)) {
      if (request.method === 'GET') return reply.redirect(`/console/login`, 303);
      return reply.status(401).type('text/plain').send('sign in first');
    }
  };
  const guarded = { onRequest: signedIn };
  // The token is in the form body, so it is checked once the body is parsed (preHandler).
  const posted = { onRequest: signedIn, preHandler: app.csrfProtection, bodyLimit: FORM_BODY_LIMIT };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error instanceof HookflowError ? error.statusCode : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'console error');
    const message =
      error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET'
        ? 'The form expired or did not come from this console. Go back, reload and try again.'
        : status >= 500
          ? 'Something went wrong; the details are in the API log.'
          : error.message;
    return render(reply, 'error', { title: 'Error', status, message, signedIn: Boolean(sessionOf(request)) }, status);
  });

  app.get('/console/assets/:name', async (request, reply) => {
    const asset = assets[(request.params as { name: string }).name as keyof typeof assets];
    if (!asset) return reply.status(404).type('text/plain').send('not found');
    return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
  });

  // --- sign-in ---------------------------------------------------------------------------------------
  app.get('/console/login', async (request, reply) => {
    if (sessionOf(request)) return reply.redirect('/console', 303);
    return render(reply, 'login', { title: 'Sign in', csrf: reply.generateCsrf(), signedIn: false, error: null });
  });

  // Guessing the token: 10 sign-in posts per minute per client address (the console's own @fastify/rate-limit).
  const signInLimit = { rateLimit: { max: 10, timeWindow: 60_000 } };
  app.post(
    '/console/login',
    { preHandler: app.csrfProtection, bodyLimit: 16 * 1024, config: signInLimit },
    async (request, reply) => {
      const { values } = readForm(request.body);
      const given = values.token ?? '';
      if (!timingSafeEqual(sha256(given), adminTokenHash)) {
        request.log.warn('console sign-in with a wrong token');
        return render(
          reply,
          'login',
          { title: 'Sign in', csrf: reply.generateCsrf(), signedIn: false, error: 'That is not the admin token.' },
          401,
        );
      }
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, Date.now() + SESSION_TTL_MS);
      void reply.setCookie(SESSION_COOKIE, id, { ...cookieOpts, maxAge: SESSION_TTL_MS / 1000 });
      return reply.redirect('/console', 303);
    },
  );

  app.post('/console/logout', posted, async (request, reply) => {
    const id = sessionOf(request);
    if (id) sessions.delete(id);
    void reply.clearCookie(SESSION_COOKIE, { path: '/console' });
    return reply.redirect('/console/login', 303);
  });

  // --- subscriptions ---------------------------------------------------------------------------------
  const idOf = (request: FastifyRequest) => {
    const parsed = subscriptionIdSchema.safeParse((request.params as { id: string }).id);
    if (!parsed.success) throw Object.assign(new Error('no such subscription'), { statusCode: 404 });
    return parsed.data;
  };
  const flashOf = (request: FastifyRequest) => {
    const f = (request.query as { done?: unknown }).done;
    // Only the console's own messages: a link cannot put words of its choosing on the page.
    return typeof f === 'string' && /^(Created|Saved|Enabled|Disabled|Deleted|Retrying) [\w/.:@-]{1,300}\.$/.test(f)
      ? f
      : null;
  };

  /** The list comes from visibility, which trails a create by a moment: wait (briefly) so the new row shows. */
  const visible = async (id: string) => {
    const query = `WorkflowId = 'subscription/${id}' AND ExecutionStatus = 'Running'`;
    for (let i = 0; i < 30; i++) {
      const { count } = await client.workflow.count(query).catch(() => ({ count: 1 }));
      if (count > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const formPage = (
    reply: FastifyReply,
    mode: 'create' | 'edit',
    values: FormValues,
    errors: FieldErrors,
    current: SubscriptionView | null,
    status = 200,
  ) =>
    render(
      reply,
      'form',
      {
        title: mode === 'create' ? 'New subscription' : `Edit ${current?.name ?? ''}`,
        mode,
        values,
        errors,
        current,
        csrf: reply.generateCsrf(),
        retryPolicies: RETRY_POLICIES,
        signatures: SIGNATURE_SCHEMES,
      },
      status,
    );

  app.get('/console', guarded, async (request, reply) => {
    const subscriptions = (await store.list()).map(publicView);
    const failed = await failedLastDay(
      client,
      subscriptions.map((s) => s.id),
    );
    return render(reply, 'list', {
      title: 'Subscriptions',
      subscriptions: subscriptions.map((s) => ({
        ...s,
        failed24h: failed.get(s.id) ?? null,
        uiList: ui.list(deliveriesQuery(s.id)),
      })),
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
      uiHome: ui.list(`WorkflowType = 'deliveryWorkflow'`),
    });
  });

  app.get('/console/subscriptions/new', guarded, async (_request, reply) =>
    formPage(
      reply,
      'create',
      {
        active: 'on',
        'tls.verify': 'on',
        retryPolicy: 'one-day',
        signature: 'ms-signature',
        'auth.type': 'none',
        connectionTimeout: 'PT30S',
      },
      {},
      null,
    ),
  );

  app.post('/console/subscriptions', posted, async (request, reply) => {
    const { values, errors } = readForm(request.body);
    if (Object.keys(errors).length) return formPage(reply, 'create', withoutSecrets(values), errors, null, 400);
    const parsed = parseCreate(values);
    if (!parsed.ok) return formPage(reply, 'create', withoutSecrets(values), parsed.errors, null, 400);
    try {
      await store.create(parsed.input);
    } catch (err) {
      if (err instanceof HookflowError && err.statusCode === 409)
        return formPage(reply, 'create', withoutSecrets(values), { id: err.message }, null, 409);
      throw err;
    }
    await visible(parsed.input.id);
    return reply.redirect(`/console?done=${encodeURIComponent(`Created ${parsed.input.id}.`)}`, 303);
  });

  app.get('/console/subscriptions/:id', guarded, async (request, reply) => {
    const current = publicView(await store.get(idOf(request)));
    return formPage(reply, 'edit', valuesOf(current), {}, current);
  });

  app.post('/console/subscriptions/:id', posted, async (request, reply) => {
    const id = idOf(request);
    const current = publicView(await store.get(id));
    const { values, errors } = readForm(request.body);
    if (Object.keys(errors).length)
      return formPage(reply, 'edit', { ...withoutSecrets(values), id }, errors, current, 400);
    const parsed = parseUpdate(values, current);
    if (!parsed.ok) return formPage(reply, 'edit', { ...withoutSecrets(values), id }, parsed.errors, current, 400);
    try {
      await store.update(id, parsed.input);
    } catch (err) {
      if (err instanceof HookflowError && err.statusCode === 400)
        return formPage(reply, 'edit', { ...withoutSecrets(values), id }, { form: err.message }, current, 400);
      throw err;
    }
    return reply.redirect(`/console?done=${encodeURIComponent(`Saved ${id}.`)}`, 303);
  });

  app.post('/console/subscriptions/:id/enable', posted, async (request, reply) => {
    const id = idOf(request);
    await store.setActive(id, true);
    return reply.redirect(`/console?done=${encodeURIComponent(`Enabled ${id}.`)}`, 303);
  });

  app.post('/console/subscriptions/:id/disable', posted, async (request, reply) => {
    const id = idOf(request);
    await store.setActive(id, false);
    return reply.redirect(`/console?done=${encodeURIComponent(`Disabled ${id}.`)}`, 303);
  });

  app.get('/console/subscriptions/:id/delete', guarded, async (request, reply) => {
    const current = publicView(await store.get(idOf(request)));
    return render(reply, 'delete', {
      title: `Delete ${current.name}`,
      subscription: current,
      csrf: reply.generateCsrf(),
    });
  });

  app.post('/console/subscriptions/:id/delete', posted, async (request, reply) => {
    const id = idOf(request);
    await store.delete(id);
    return reply.redirect(`/console?done=${encodeURIComponent(`Deleted ${id}.`)}`, 303);
  });

  app.post('/console/subscriptions/:id/test', posted, async (request, reply) => {
    const id = idOf(request);
    const sentAt = new Date(Date.now() - 1000).toISOString();
    await store.test(id);
    return reply.redirect(`/console/subscriptions/${id}/deliveries?test=${encodeURIComponent(sentAt)}`, 303);
  });

  // --- deliveries ------------------------------------------------------------------------------------
  app.get('/console/subscriptions/:id/deliveries', guarded, async (request, reply) => {
    const subscription = publicView(await store.get(idOf(request)));
    const deliveries = (await latestDeliveries(client, subscription.id)).map((d) => ({
      ...d,
      uiUrl: ui.workflow(d.id, d.runId),
    }));
    const testParam = (request.query as { test?: unknown }).test;
    const testSince =
      typeof testParam === 'string' && !Number.isNaN(Date.parse(testParam)) ? new Date(testParam).toISOString() : null;
    let test: { state: 'waiting' | 'answered'; row?: (typeof deliveries)[number] } | null = null;
    if (testSince) {
      const row = deliveries.find((d) => d.eventType === 'hookflow.test' && d.startedAt >= testSince);
      test =
        row && (row.lastHttpStatus !== null || row.workflowStatus !== 'RUNNING')
          ? { state: 'answered', row }
          : { state: 'waiting', row };
    }
    return render(reply, 'deliveries', {
      title: `Deliveries of ${subscription.name}`,
      subscription,
      deliveries,
      test,
      // Reload while the test delivery has no answer yet (no script needed; stops once it is answered).
      refresh: test?.state === 'waiting' ? 2 : null,
      csrf: reply.generateCsrf(),
      flash: flashOf(request),
      uiList: ui.list(deliveriesQuery(subscription.id)),
    });
  });

  app.post('/console/deliveries/retry', posted, async (request, reply) => {
    const { values } = readForm(request.body);
    const id = values.delivery ?? '';
    const back = subscriptionIdSchema.safeParse(values.subscription);
    if (!id.startsWith('delivery/') || !back.success)
      throw Object.assign(new Error('not a delivery of a subscription'), { statusCode: 400 });
    await retryDelivery(client, config.temporal.namespace, id, 'retry from the console');
    return reply.redirect(
      `/console/subscriptions/${back.data}/deliveries?done=${encodeURIComponent(`Retrying ${id}.`)}`,
      303,
    );
  });
}
