import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '../../errors';
import { publicView } from '../../subscriptions/seal';
import { transformSchema } from '../../subscriptions/schema';
import { attemptsPagePath } from '../../temporal/attempts';
import { tryTransform, type TransformTry } from '../../temporal/transform-try';
import { fieldOf, inWords, readForm, transformOf, withoutSecrets, type FieldErrors } from '../form';
import { guarded, posted } from '../plugins/session';
import { idOf, type ConsoleContext } from './context';
import { formPage } from './subscription-form';

/** The failing expression split around JSONata's position (the character before it is the one it stopped at). */
function marked(source: string, position: number | null) {
  if (position === null || position < 1 || position > source.length) return null;
  return {
    before: source.slice(0, position - 1),
    at: source.slice(position - 1, position),
    after: source.slice(position),
  };
}

/**
 * "Try it" on the subscription form: the transformation as typed (unsaved) runs on a recent real event of
 * the subscription (or the event id typed) and the form comes back, as typed, with the result or the error.
 * A plain form post (the console runs no inline script): the button posts the whole form here.
 */
export async function transformTryRoutes(app: FastifyInstance, { client, store }: ConsoleContext) {
  // Reached by a reload of the result page: back to the form.
  app.get('/console/subscriptions/:id/transform/try', guarded, async (request, reply) =>
    reply.redirect(`/console/subscriptions/${idOf(request)}`, 303),
  );

  app.post('/console/subscriptions/:id/transform/try', posted(app), async (request, reply) => {
    const id = idOf(request);
    const current = publicView(await store.get(id));
    const { values, errors } = readForm(request.body);
    const shown = { ...withoutSecrets(values), id };
    const page = (fieldErrors: FieldErrors, tried: unknown, status = 200) =>
      formPage(reply, 'edit', shown, fieldErrors, current, status, { tried });
    if (Object.keys(errors).length) return page(errors, null, 400);

    const typed = transformOf(values);
    if (!typed) return page({}, { problem: 'Type a transformation body first.' });
    const parsed = transformSchema.safeParse(typed);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return page({ [fieldOf(['transform', ...issue.path.map(String)])]: inWords(issue) }, null, 400);
    }
    const eventId = values.tryEventId?.trim() || undefined;
    let tried: TransformTry;
    try {
      tried = await tryTransform(client, id, parsed.data, eventId);
    } catch (err) {
      if (err instanceof NotFoundError) return page({}, { problem: err.message });
      throw err;
    }
    return page(
      {},
      {
        ...tried,
        deliveryUrl: attemptsPagePath(tried.deliveryId),
        marked: tried.result.ok ? null : marked(parsed.data.body, tried.result.position),
      },
    );
  });
}
