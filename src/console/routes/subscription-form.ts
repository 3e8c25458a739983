import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HookflowError } from '../../errors';
import { RETRY_POLICIES, SIGNATURE_SCHEMES } from '../../shared/subscription';
import { knownEventTypes } from '../../sources';
import { publicView, type SubscriptionView } from '../../subscriptions/seal';
import {
  breakerValues,
  parseCreate,
  parseUpdate,
  readForm,
  valuesOf,
  withoutSecrets,
  type FieldErrors,
  type FormValues,
} from '../form';
import { holdStateOf } from '../hold-view';
import { guarded, posted } from '../plugins/session';
import { done, idOf, type ConsoleContext } from './context';

const NEW_SUBSCRIPTION: FormValues = {
  active: 'on',
  'tls.verify': 'on',
  retryPolicy: 'one-day',
  signature: 'ms-signature',
  'auth.type': 'none',
  connectionTimeout: 'PT30S',
  ...breakerValues(undefined),
};

/** The form page; `extra` carries what another page group adds to it (the "try it" result). */
export const formPage = (
  reply: FastifyReply,
  mode: 'create' | 'edit',
  values: FormValues,
  errors: FieldErrors,
  current: SubscriptionView | null,
  status = 200,
  extra: Record<string, unknown> = {},
) =>
  reply.consolePage(
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
      eventTypes: knownEventTypes(),
      holdState: null,
      ...extra,
    },
    status,
  );

/** The list comes from visibility, which trails a create by a moment: wait (briefly) so the new row shows. */
async function visible(client: Client, id: string) {
  const query = `WorkflowId = 'subscription/${id}' AND ExecutionStatus = 'Running'`;
  for (let i = 0; i < 30; i++) {
    const { count } = await client.workflow.count(query).catch(() => ({ count: 1 }));
    if (count > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The subscription form: new and create, edit and save; errors are shown by their field. */
export async function subscriptionFormRoutes(app: FastifyInstance, { client, store, config }: ConsoleContext) {
  app.get('/console/subscriptions/new', guarded, async (_request, reply) =>
    formPage(reply, 'create', NEW_SUBSCRIPTION, {}, null),
  );

  app.post('/console/subscriptions', posted(app), async (request, reply) => {
    const { values, errors } = readForm(request.body);
    if (Object.keys(errors).length) return formPage(reply, 'create', withoutSecrets(values), errors, null, 400);
    const parsed = parseCreate(values, config.sources);
    if (!parsed.ok) return formPage(reply, 'create', withoutSecrets(values), parsed.errors, null, 400);
    try {
      await store.create(parsed.input);
    } catch (err) {
      if (err instanceof HookflowError && err.statusCode === 409)
        return formPage(reply, 'create', withoutSecrets(values), { id: err.message }, null, 409);
      throw err;
    }
    await visible(client, parsed.input.id);
    return done(reply, '/console', `Created ${parsed.input.id}.`);
  });

  app.get('/console/subscriptions/:id', guarded, async (request, reply) => {
    const current = publicView(await store.get(idOf(request)));
    const holdState = await holdStateOf(client, current);
    return formPage(reply, 'edit', valuesOf(current), {}, current, 200, { holdState });
  });

  app.post('/console/subscriptions/:id', posted(app), async (request, reply) => {
    const id = idOf(request);
    const current = publicView(await store.get(id));
    const { values, errors } = readForm(request.body);
    if (Object.keys(errors).length)
      return formPage(reply, 'edit', { ...withoutSecrets(values), id }, errors, current, 400);
    const parsed = parseUpdate(values, current, config.sources);
    if (!parsed.ok) return formPage(reply, 'edit', { ...withoutSecrets(values), id }, parsed.errors, current, 400);
    try {
      await store.update(id, parsed.input);
    } catch (err) {
      if (err instanceof HookflowError && err.statusCode === 400)
        return formPage(reply, 'edit', { ...withoutSecrets(values), id }, { form: err.message }, current, 400);
      throw err;
    }
    return done(reply, '/console', `Saved ${id}.`);
  });
}
