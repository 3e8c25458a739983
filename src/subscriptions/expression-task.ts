import type { MessagePort } from 'node:worker_threads';
import type { SubscriptionTransform } from '../shared/subscription';
import {
  ExpressionError,
  evaluateBounded,
  filterInputMatches,
  transformInput,
  type EvaluationLimits,
} from './expressions';

/**
 * One evaluation as an expression thread runs it (expression-pool.ts posts it). `input` is what
 * expressionInput made of the event; `started` hears from the thread when the evaluation begins, so the
 * pool's wall-clock backstop counts running time, not time spent waiting in the queue.
 */
export type ExpressionTask = { started?: MessagePort } & (
  | { kind: 'filter'; expression: string; input: unknown }
  | { kind: 'transform'; transform: SubscriptionTransform; input: unknown }
  | { kind: 'evaluate'; expression: string; input: unknown; limits?: EvaluationLimits }
);

/** An ExpressionError crosses the thread boundary as plain data (a structured clone drops its class). */
export type ExpressionTaskResult =
  { ok: true; value: unknown } | { ok: false; error: { message: string; position?: number; code?: string } };

/**
 * What a thread runs: piscina calls the entry's default export.
 * @public
 */
export default async function runExpressionTask(task: ExpressionTask): Promise<ExpressionTaskResult> {
  task.started?.postMessage('started');
  task.started?.close();
  try {
    switch (task.kind) {
      case 'filter':
        return { ok: true, value: await filterInputMatches(task.expression, task.input) };
      case 'transform':
        return { ok: true, value: await transformInput(task.transform, task.input) };
      case 'evaluate':
        return { ok: true, value: await evaluateBounded(task.expression, task.input, task.limits) };
    }
  } catch (err) {
    const e = err instanceof ExpressionError ? err : new ExpressionError((err as Error)?.message ?? String(err));
    return { ok: false, error: { message: e.message, position: e.position, code: e.code } };
  }
}
