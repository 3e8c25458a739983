import type { FastifyRequest } from 'fastify';
import type { HookflowConfig } from '../../config/schema';
import { InvalidPayloadError } from '../../errors';
import { triggerProblem } from '../../subscriptions/triggers';

/**
 * preValidation of the subscription routes: a trigger (or replay type) named after a configured source
 * id (`erp.*`) matches nothing, since events are named by their source's kind. The schema cannot know
 * the configured ids; every other trigger problem is the schema's (src/subscriptions/triggers.ts).
 */
export function refuseSourceIdTriggers(config: HookflowConfig) {
  const sources = config.sources.map(({ id, kind }) => ({ id, kind }));
  return async (request: FastifyRequest) => {
    if (!request.routeOptions.url?.startsWith('/api/subscriptions')) return;
    const body = request.body as Record<string, unknown> | null | undefined;
    if (!body || typeof body !== 'object') return;
    for (const field of ['triggers', 'types']) {
      const list = body[field];
      if (!Array.isArray(list)) continue;
      list.forEach((trigger: unknown, index) => {
        if (typeof trigger !== 'string' || triggerProblem(trigger)) return;
        const problem = triggerProblem(trigger, sources);
        if (problem)
          throw new InvalidPayloadError(`${field}[${index}]: ${problem}`, [
            { path: `/${field}/${index}`, message: problem },
          ]);
      });
    }
  };
}
