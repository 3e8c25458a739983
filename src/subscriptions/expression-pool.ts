import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { OutboundEvent } from '../shared/delivery';
import type { SubscriptionTransform } from '../shared/subscription';
import type { ExpressionTask, ExpressionTaskResult } from './expression-task';
import {
  EXPRESSION_LIMITS,
  ExpressionError,
  expressionInput,
  type EvaluationLimits,
  type TransformedRequest,
} from './expressions';

/**
 * Subscription expressions evaluated on worker threads of their own, so that a hostile one (it runs to its
 * step or CPU bound on every event) costs the thread that runs it, not the event loop every other delivery
 * needs. Each thread runs the bounded evaluator of expressions.ts, one evaluation at a time, so the CPU
 * bound counts that evaluation's time only (and never the main thread's garbage collection). A step that
 * never returns (a regular expression stuck in native code) is stopped from here: past threadWallClockMs
 * its thread is terminated. Idle threads exit: an install without expressions runs none.
 */

export interface ExpressionPoolOptions {
  /** Threads at most (default: 1 on two cores or fewer, else 2). */
  threads?: number;
  /** Running time after which an evaluation's thread is terminated (default threadWallClockMs). */
  wallClockMs?: number;
  /** Idle time after which a thread exits. */
  idleTimeoutMs?: number;
  /** A thread's heap (V8 old generation) in MB (default threadHeapMb). */
  heapMb?: number;
}

/** Built code (dist/) runs the compiled task; from sources (tsx, jest) a thread first registers tsx. */
const THREAD_ENTRY = __filename.endsWith('.js')
  ? resolve(__dirname, 'expression-task.js')
  : resolve(__dirname, 'expression-thread.cjs');

type TaskWithoutPort = ExpressionTask extends infer T ? (T extends unknown ? Omit<T, 'started'> : never) : never;

export class ExpressionPool {
  private piscina: Piscina | undefined;
  private readonly wallClockMs: number;
  private readonly heapMb: number;

  constructor(private readonly options: ExpressionPoolOptions = {}) {
    this.wallClockMs = options.wallClockMs ?? EXPRESSION_LIMITS.threadWallClockMs;
    this.heapMb = options.heapMb ?? EXPRESSION_LIMITS.threadHeapMb;
  }

  /** Does the event pass the subscription's content filter? ExpressionError when the filter fails on it. */
  async filterMatches(filterExpression: string, event: OutboundEvent): Promise<boolean> {
    return (await this.run({ kind: 'filter', expression: filterExpression, input: expressionInput(event) })) as boolean;
  }

  /** The body and headers a subscription's transformation makes of the event (expressions.ts transformInput). */
  async transformEvent(transform: SubscriptionTransform, event: OutboundEvent): Promise<TransformedRequest> {
    return (await this.run({ kind: 'transform', transform, input: expressionInput(event) })) as TransformedRequest;
  }

  /** One expression over an input (expressions.ts evaluateBounded), on a thread. */
  async evaluate(expression: string, input: unknown, limits?: EvaluationLimits): Promise<unknown> {
    return this.run({ kind: 'evaluate', expression, input, limits });
  }

  /** Stops the threads (a running evaluation fails). The pool starts new ones if used again. */
  async close(): Promise<void> {
    const piscina = this.piscina;
    this.piscina = undefined;
    await piscina?.destroy();
  }

  private pool(): Piscina {
    const threads = this.options.threads ?? Math.max(1, Math.min(2, availableParallelism() - 1));
    this.piscina ??= new Piscina({
      filename: THREAD_ENTRY,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: this.options.idleTimeoutMs ?? 60_000,
      concurrentTasksPerWorker: 1,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
      // Below the event loop's priority: when the cores are busy, deliveries go first (Linux sets it per
      // thread; elsewhere it would lower the whole process).
      niceIncrement: process.platform === 'linux' ? 5 : 0,
    });
    return this.piscina;
  }

  private async run(task: TaskWithoutPort): Promise<unknown> {
    const { port1: started, port2 } = new MessageChannel();
    const stop = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The clock starts when the thread starts the evaluation, not while the task waits for a thread.
    started.once('message', () => (timer = setTimeout(() => stop.abort(), this.wallClockMs)));
    let result: ExpressionTaskResult;
    try {
      result = (await this.pool().run({ ...task, started: port2 } satisfies ExpressionTask, {
        transferList: [port2],
        signal: stop.signal,
      })) as ExpressionTaskResult;
    } catch (err) {
      if (stop.signal.aborted)
        throw new ExpressionError(
          `ran longer than ${this.wallClockMs} ms in one step (a regular expression that backtracks, or another ` +
            'built-in function that does not return): the evaluation was stopped',
          undefined,
          'STOPPED',
        );
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY')
        throw new ExpressionError(
          `needed more than ${this.heapMb} MB of memory: the evaluation was stopped`,
          undefined,
          'MEMORY',
        );
      throw err; // the thread could not run it (not the expression's fault): the activity retries
    } finally {
      clearTimeout(timer);
      started.close();
    }
    if (!result.ok) throw new ExpressionError(result.error.message, result.error.position, result.error.code);
    return result.value;
  }
}

let shared: ExpressionPool | undefined;
const pool = () => (shared ??= new ExpressionPool());

/** The worker's content filter check (fan-out), on an expression thread. */
export const filterMatches = (filterExpression: string, event: OutboundEvent) =>
  pool().filterMatches(filterExpression, event);

/** The worker's transformation (delivery attempt, "try it"), on an expression thread. */
export const transformEvent = (transform: SubscriptionTransform, event: OutboundEvent) =>
  pool().transformEvent(transform, event);

/** Stops the process's expression threads (worker shutdown); used again, the pool starts new ones. */
export async function closeExpressionPool(): Promise<void> {
  const closing = shared;
  shared = undefined;
  await closing?.close();
}
