import { isMainThread } from 'node:worker_threads';
import jsonata from 'jsonata';
import type { OutboundEvent } from '../shared/delivery';
import type { SubscriptionTransform } from '../shared/subscription';
import { bindCheckedStrings, checkStepResult, concatOperands, STRING_CHARS } from './expression-strings';

/**
 * Subscription expressions in JSONata (https://docs.jsonata.org): content filters (`filterExpression`)
 * and transformations (`transform`). JSONata runs no arbitrary code; what it can still do is loop, recurse
 * or build huge values, so every evaluation is bounded: JSONata's own guardrails (`timeout`, `stack`,
 * `sequence`, checked at each step), the size of its input and of its output, and regular expressions
 * without nested quantifiers (a backtracking regex is one step that the guardrails cannot interrupt).
 * Evaluation happens in activities only (fan-out, delivery attempt, the console's "try it"), never in workflows,
 * and there on a thread of its own (expression-pool.ts): this module is what that thread runs.
 */

export const EXPRESSION_LIMITS = {
  /** One expression, in characters. */
  expressionChars: 4096,
  /** Header expressions of one transformation. */
  transformHeaders: 20,
  /** Steps (expression nodes evaluated) of one evaluation: deterministic, whatever the machine's load. */
  steps: 5_000,
  /** CPU time of one evaluation (evaluations run one at a time, so the thread's CPU time is its own). */
  cpuMs: 50,
  /** Wall-clock time of one evaluation, checked at each step: a backstop for a starved process (CPU time is the real bound). */
  wallClockMs: 2_000,
  /**
   * Wall-clock time of one evaluation on its thread, enforced from the outside: a step that never returns
   * (a regular expression stuck backtracking in native code) has its thread stopped.
   */
  threadWallClockMs: 3_000,
  /** Heap of an expression thread (V8's old generation): a thread that needs more is stopped. */
  threadHeapMb: 128,
  /** Nesting depth of one evaluation (recursion). */
  stackDepth: 250,
  /** Items of one sequence built during an evaluation. */
  sequenceItems: 100_000,
  /** The event an expression reads, as JSON. */
  inputBytes: 1024 * 1024,
  /** A transformation's body, as JSON. */
  outputBytes: 256 * 1024,
  /** One header value a transformation yields. */
  headerChars: 1024,
  /** Any string an evaluation builds (checked before `$pad`, `$join`, `$string`, `$replace`, `&` and after each step). */
  stringChars: STRING_CHARS,
  /** Strings a regular expression is matched against. */
  regexSubjectChars: 64 * 1024,
  /** Compiled expressions kept (least recently used go first). */
  cacheEntries: 500,
} as const;

/** Why an expression could not be compiled or evaluated; `position` is JSONata's (characters from the start). */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly position?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

interface JsonataFailure {
  message?: string;
  position?: number;
  code?: string;
  token?: string;
}

const WORDS: Record<string, string> = {
  D1011: 'recursion deeper than the limit',
  D1012: `ran longer than ${EXPRESSION_LIMITS.wallClockMs} ms`,
  D2015: `built a sequence longer than ${EXPRESSION_LIMITS.sequenceItems} items`,
};

/** A JSONata failure (a plain object, not always an Error) as an ExpressionError naming its position. */
function expressionError(err: unknown): ExpressionError {
  if (err instanceof ExpressionError) return err;
  const f = (err ?? {}) as JsonataFailure;
  const words = (f.code && WORDS[f.code]) ?? f.message ?? String(err);
  const at = typeof f.position === 'number' ? ` at position ${f.position}` : '';
  return new ExpressionError(`${f.code ? `${f.code} ` : ''}${words}${at}`, f.position, f.code);
}

/**
 * Matching applies only to strings up to regexSubjectChars: longer ones fail the evaluation rather than
 * risk a long match.
 */
class BoundedRegExp extends RegExp {
  override exec(subject: string): RegExpExecArray | null {
    if (subject.length > EXPRESSION_LIMITS.regexSubjectChars)
      throw new ExpressionError(
        `a regular expression was matched against ${subject.length} characters (at most ${EXPRESSION_LIMITS.regexSubjectChars})`,
      );
    return super.exec(subject);
  }
}

/** A group that repeats something repeating: `(a+)+`, `(\w*)*`, `(x{2,})+` backtrack exponentially. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/;

/** Regex literals of a compiled expression (AST nodes of type `regex`), found anywhere in the tree. */
function regexLiterals(node: unknown, found: { source: string; position?: number }[] = [], seen = new Set()) {
  if (!node || typeof node !== 'object' || seen.has(node)) return found;
  seen.add(node);
  const n = node as { type?: string; value?: unknown; position?: number };
  if (n.type === 'regex' && n.value instanceof RegExp) found.push({ source: n.value.source, position: n.position });
  for (const value of Object.values(node)) regexLiterals(value, found, seen);
  return found;
}

/** JSONata's built-in functions (`$eval` is turned off: see expression-strings.ts). */
const BUILT_INS = new Set(
  `sum count max min average string substring substringBefore substringAfter lowercase uppercase length trim pad
  match contains replace split join formatNumber formatBase formatInteger parseInteger number floor ceil round abs
  sqrt power random boolean not map zip filter single reduce sift keys lookup append exists spread merge reverse
  each error assert type sort shuffle distinct base64encode base64decode encodeUrlComponent encodeUrl
  decodeUrlComponent decodeUrl toMillis fromMillis clone now millis`.split(/\s+/),
);

/**
 * A call to a function that is neither built in nor bound in the expression (`$foo()`, `$Pad()`): it
 * would fail on every event, so it is refused when the subscription is saved.
 */
function unknownFunction(ast: unknown): { name: string; position?: number } | undefined {
  const bound = new Set<string>();
  const called: { name: string; position?: number }[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const n = node as { type?: string; value?: unknown; lhs?: unknown; procedure?: unknown; arguments?: unknown[] };
    if (n.type === 'bind') {
      const lhs = n.lhs as { value?: unknown } | undefined;
      if (typeof lhs?.value === 'string') bound.add(lhs.value);
    }
    if (n.type === 'lambda')
      for (const arg of n.arguments ?? [])
        if (typeof (arg as { value?: unknown }).value === 'string') bound.add((arg as { value: string }).value);
    if (n.type === 'function' || n.type === 'partial') {
      const proc = n.procedure as { type?: string; value?: unknown; position?: number } | undefined;
      if (proc?.type === 'variable' && typeof proc.value === 'string')
        called.push({ name: proc.value, position: proc.position });
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(ast);
  return called.find((c) => c.name !== '' && !BUILT_INS.has(c.name) && !bound.has(c.name));
}

const cache = new Map<string, jsonata.Expression>();

/** JSONata calls this binding before each step of an evaluation. */
const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry');
/** ... and this one after each step, with its result. */
const EVALUATE_EXIT = Symbol.for('jsonata.__evaluate_exit');

/** The bounds evaluateBounded applies per evaluation (tests of other bounds may raise them). */
export interface EvaluationLimits {
  steps: number;
  cpuMs: number;
}

/** The running evaluation's budget (one runs at a time: see oneAtATime). */
const budget: { steps: number; cpuStartUs: number; limits: EvaluationLimits } = {
  steps: 0,
  cpuStartUs: 0,
  limits: EXPRESSION_LIMITS,
};

/**
 * CPU time of this thread (process.threadCpuUsage, in recent Node 22 and 24). Without it: on an expression thread, which runs nothing
 * else, its wall-clock time; on the main thread, the process's CPU time (other threads' count too).
 */
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.bind(process);
const cpuUs = () => {
  if (!threadCpuUsage && !isMainThread) return performance.now() * 1000;
  const { user, system } = threadCpuUsage ? threadCpuUsage() : process.cpuUsage();
  return user + system;
};

function countStep(expr: { position?: number }): void {
  const { steps, cpuMs } = budget.limits;
  budget.steps += 1;
  const at = expr.position !== undefined ? ` at position ${expr.position}` : '';
  if (budget.steps > steps) throw new ExpressionError(`took more than ${steps} steps${at}`, expr.position, 'STEPS');
  // One getrusage per step: small next to a JSONata step (several microseconds).
  if (cpuUs() - budget.cpuStartUs > cpuMs * 1000)
    throw new ExpressionError(`used more than ${cpuMs} ms of CPU${at}`, expr.position, 'CPU');
}

/** The compiled expression (cached by its text); ExpressionError with the position when it is not valid JSONata. */
export function compileExpression(source: string): jsonata.Expression {
  const cached = cache.get(source);
  if (cached) {
    cache.delete(source);
    cache.set(source, cached); // most recently used last
    return cached;
  }
  if (source.length > EXPRESSION_LIMITS.expressionChars)
    throw new ExpressionError(
      `the expression is ${source.length} characters (at most ${EXPRESSION_LIMITS.expressionChars})`,
    );
  if (source.trim() === '') throw new ExpressionError('the expression is empty', 0);
  let compiled: jsonata.Expression;
  try {
    compiled = jsonata(source, {
      timeout: EXPRESSION_LIMITS.wallClockMs,
      stack: EXPRESSION_LIMITS.stackDepth,
      sequence: EXPRESSION_LIMITS.sequenceItems,
      RegexEngine: BoundedRegExp as unknown as RegExpConstructor, // used with `new` only
    });
  } catch (err) {
    throw expressionError(err);
  }
  const risky = regexLiterals(compiled.ast()).find((r) => NESTED_QUANTIFIER.test(r.source));
  if (risky)
    throw new ExpressionError(
      `the regular expression /${risky.source}/ repeats a group that itself repeats (it could take exponential time)${
        risky.position !== undefined ? ` at position ${risky.position}` : ''
      }`,
      risky.position,
    );
  const unknown = unknownFunction(compiled.ast());
  if (unknown)
    throw new ExpressionError(
      `$${unknown.name} ${unknown.name === 'eval' ? 'is not available (it would run unchecked expressions)' : 'is not a JSONata function'}${unknown.position !== undefined ? ` at position ${unknown.position}` : ''}`,
      unknown.position,
    );
  compiled.assign(EVALUATE_ENTRY as unknown as string, countStep);
  const operands = concatOperands(compiled.ast());
  compiled.assign(EVALUATE_EXIT as unknown as string, (expr: object, _input: unknown, _env: unknown, result: unknown) =>
    checkStepResult(operands, expr, result),
  );
  bindCheckedStrings(compiled);
  cache.set(source, compiled);
  if (cache.size > EXPRESSION_LIMITS.cacheEntries) cache.delete(cache.keys().next().value!);
  return compiled;
}

/** What is wrong with an expression (`… at position N`), or undefined: the subscription schema's check. */
export function expressionProblem(source: string): string | undefined {
  try {
    compileExpression(source);
    return undefined;
  } catch (err) {
    return `invalid JSONata: ${(err as Error).message}`;
  }
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');

/**
 * ExpressionError when the input an expression would read is over inputBytes as JSON: measured on the
 * expression thread, so the size check costs the event loop nothing either.
 */
function checkInputSize(input: unknown): void {
  const bytes = jsonBytes(input);
  if (bytes > EXPRESSION_LIMITS.inputBytes)
    throw new ExpressionError(
      `the event is ${bytes} bytes as JSON (expressions read at most ${EXPRESSION_LIMITS.inputBytes})`,
    );
}

/**
 * Evaluates `source` over `input` within EXPRESSION_LIMITS, on the calling thread; ExpressionError when it
 * fails or exceeds a bound. The worker evaluates on its expression threads (expression-pool.ts).
 */
export async function evaluateBounded(
  source: string,
  input: unknown,
  limits: EvaluationLimits = EXPRESSION_LIMITS,
): Promise<unknown> {
  const expression = compileExpression(source);
  checkInputSize(input);
  try {
    return await oneAtATime(() => {
      budget.steps = 0;
      budget.limits = limits;
      budget.cpuStartUs = cpuUs();
      return expression.evaluate(input);
    });
  } catch (err) {
    throw expressionError(err);
  }
}

let running: Promise<unknown> = Promise.resolve();

/**
 * Evaluations run one after the other. The budget above is per thread, JSONata's time limit is wall-clock,
 * and an evaluation awaits at every step: run side by side, each would be charged the others' steps and
 * time and fail for no fault of its own. An expression thread runs one task at a time, so this matters
 * only to callers on one thread that do not wait for one evaluation before the next.
 */
function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
  const result = running.then(run, run);
  running = result.catch(() => undefined);
  return result;
}

/** What an expression reads: the outbound event's fields, `data` the source's payload, `followUp` the fetched data. */
export function expressionInput(event: OutboundEvent) {
  return {
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    source: event.source,
    entity: event.entity,
    warehouse: event.warehouse,
    goodsOwnerId: event.goodsOwnerId,
    data: event.data,
    followUp: event.followUp,
    ...(event.coalesced ? { coalesced: event.coalesced } : {}),
  };
}

/** JSONata's `$boolean`: nothing, false, 0, '' and empty arrays/objects are false; arrays are true when any item is. */
function truthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === 'object') return Object.keys(value).length > 0;
  if (typeof value === 'function') return false;
  return Boolean(value);
}

/** Does the input pass the content filter? ExpressionError when the filter fails on it. */
export async function filterInputMatches(filterExpression: string, input: unknown): Promise<boolean> {
  return truthy(await evaluateBounded(filterExpression, input));
}

/** A transformation's result: the body (JSON text, signed as is) and the extra headers. */
export interface TransformedRequest {
  body: string;
  headers: Record<string, string>;
}

/** Header names a transformation may not set: the request's own framing, signature and auth headers. */
const RESERVED_HEADER =
  /^(content-length|content-type|host|transfer-encoding|connection|authorization|x-auth-token|ms-signature|x-signature|webhook-(id|timestamp|signature)|x-hookflow-.*|traceparent|tracestate)$/i;

/**
 * The body and headers a subscription's `transform` makes of the event (`input`: expressionInput of it):
 * `body` is evaluated to a JSON value (nothing at all is an error), each header's value is a JSONata
 * expression, or a literal when it is not valid JSONata. ExpressionError when an evaluation fails or the
 * body is larger than outputBytes.
 */
export async function transformInput(transform: SubscriptionTransform, input: unknown): Promise<TransformedRequest> {
  const result = await evaluateBounded(transform.body, input);
  // Nothing at all (every field it reads is missing from this event) is a visible failure, not an empty body.
  if (result === undefined)
    throw new ExpressionError('the transformation yielded nothing: the fields it reads are missing from this event');
  const body = JSON.stringify(result);
  if (Buffer.byteLength(body) > EXPRESSION_LIMITS.outputBytes)
    throw new ExpressionError(
      `the transformed body is ${Buffer.byteLength(body)} bytes (at most ${EXPRESSION_LIMITS.outputBytes})`,
    );
  const headers: Record<string, string> = {};
  for (const [name, source] of Object.entries(transform.headers ?? {})) {
    const value = await headerValue(source, input).catch((err: unknown) => {
      throw new ExpressionError(`header ${name}: ${(err as Error).message}`, (err as ExpressionError).position);
    });
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return { body, headers };
}

async function headerValue(source: string, input: unknown): Promise<string | undefined> {
  let value: unknown;
  try {
    compileExpression(source);
    value = await evaluateBounded(source, input);
  } catch (err) {
    // Not JSONata at all (`Bearer abc`, `v2`): the text itself. A valid expression that fails is an error.
    if ((err as ExpressionError).code?.startsWith('S')) value = source;
    else throw err;
  }
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.length > EXPRESSION_LIMITS.headerChars)
    throw new ExpressionError(`the value is ${text.length} characters (at most ${EXPRESSION_LIMITS.headerChars})`);
  if (/[^\x20-\x7e\t]/.test(text)) throw new ExpressionError('the value holds characters a header cannot carry');
  return text;
}

/** What is wrong with a transformation's expressions and header names, or undefined (the schema's check). */
export function transformProblem(transform: SubscriptionTransform): { path: string[]; message: string } | undefined {
  const body = expressionProblem(transform.body);
  if (body) return { path: ['body'], message: body };
  for (const name of Object.keys(transform.headers ?? {})) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
      return { path: ['headers', name], message: 'not a valid header name' };
    if (RESERVED_HEADER.test(name))
      return { path: ['headers', name], message: `${name} is set by hookflow (signature, auth or framing)` };
  }
  return undefined;
}
