import {
  EXPRESSION_LIMITS,
  ExpressionError,
  compileExpression,
  expressionProblem,
  transformProblem,
  type EvaluationLimits,
} from '../../src/subscriptions/expressions';
import {
  ExpressionPool,
  closeExpressionPool,
  filterMatches,
  transformEvent,
} from '../../src/subscriptions/expression-pool';
import type { OutboundEvent } from '../../src/shared/delivery';
import { createSubscriptionSchema } from '../../src/subscriptions/schema';

// Evaluations run on an expression thread, as in the worker: a fresh heap of their own, so the CPU bound
// counts the evaluation only, never the garbage collection of this (large, busy) test process. Its
// wall-clock backstop is far off here: these tests are about the other bounds (see 'the main thread').
const pool = new ExpressionPool({ wallClockMs: 30_000 });
const evaluateBounded = (source: string, input: unknown, limits?: EvaluationLimits) =>
  pool.evaluate(source, input, limits);
afterAll(async () => {
  await pool.close();
  await closeExpressionPool();
});

const event = (data: Record<string, unknown>, extra: Partial<OutboundEvent> = {}): OutboundEvent => ({
  id: 'api/e-1',
  uuid: '00000000-0000-4000-8000-000000000001',
  type: 'shop.OrderPaid',
  occurredAt: '2026-12-01T10:00:00.000Z',
  warehouse: 'ADR-1',
  goodsOwnerId: 162,
  data,
  ...extra,
});

const failure = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    return err as ExpressionError;
  }
  throw new Error('expected a failure');
};

describe('content filters', () => {
  test('match on the payload, the type and the routing fields', async () => {
    expect(await filterMatches('data.total > 1000', event({ total: 1500 }))).toBe(true);
    expect(await filterMatches('data.total > 1000', event({ total: 10 }))).toBe(false);
    expect(await filterMatches('data.orderStatus.number >= 400', event({ orderStatus: { number: 400 } }))).toBe(true);
    expect(await filterMatches("type = 'shop.OrderPaid' and warehouse = 'ADR-1'", event({}))).toBe(true);
    expect(await filterMatches('goodsOwnerId in [1, 2]', event({}))).toBe(false);
    // A missing field is no match, not an error.
    expect(await filterMatches('data.total > 1000', event({}))).toBe(false);
    // JSONata's truthiness: a non-empty string or list matches, an empty one does not.
    expect(await filterMatches('data.lines[qty > 2]', event({ lines: [{ qty: 1 }, { qty: 3 }] }))).toBe(true);
    expect(await filterMatches('data.lines[qty > 5]', event({ lines: [{ qty: 1 }] }))).toBe(false);
  });

  test('a run-time error is an ExpressionError with the position', async () => {
    const err = await failure(filterMatches('data.total + data.name', event({ total: 1, name: 'x' })));
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err.code).toBe('T2002');
    expect(err.position).toEqual(expect.any(Number));
    expect(err.message).toMatch(/at position \d+/);
  });
});

describe('compilation', () => {
  test('an invalid expression names its position', () => {
    expect(expressionProblem('data.total > ')).toMatch(/^invalid JSONata: S0207 .* at position 13$/);
    expect(expressionProblem('data.(total')).toMatch(/at position \d+/);
    expect(expressionProblem('data.total > 1000')).toBeUndefined();
    expect(expressionProblem('  ')).toMatch(/empty/);
    expect(expressionProblem('x'.repeat(EXPRESSION_LIMITS.expressionChars + 1))).toMatch(/at most 4096/);
  });

  test('compiled expressions are cached by their text', () => {
    expect(compileExpression('data.a = 1')).toBe(compileExpression('data.a = 1'));
  });

  test('a regular expression that repeats a repeating group is refused at compile time', () => {
    expect(expressionProblem('$contains(data.name, /(a+)+$/)')).toMatch(/repeats a group .* at position \d+/);
    expect(expressionProblem('$contains(data.name, /^SO-[0-9]+$/)')).toBeUndefined();
  });

  test('the subscription schema refuses an invalid filter with its position (the API answers 400)', () => {
    const base = { id: 's', name: 's', contactEmail: 'a@example.com', url: 'http://127.0.0.1/h', triggers: ['shop.*'] };
    const bad = createSubscriptionSchema.safeParse({ ...base, filterExpression: 'data.total >' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({
      path: ['filterExpression'],
      message: expect.stringMatching(/position 12/),
    });
    const badTransform = createSubscriptionSchema.safeParse({ ...base, transform: { body: '{"a": }' } });
    expect(badTransform.error?.issues[0]).toMatchObject({ path: ['transform', 'body'] });
    expect(createSubscriptionSchema.safeParse({ ...base, filterExpression: 'data.total > 1000' }).success).toBe(true);
  });
});

describe('bounds', () => {
  test('endless recursion stops at the stack limit', async () => {
    // The depth bound is the one under test: the CPU bound is raised so a cold thread cannot reach it first.
    const limits = { steps: EXPRESSION_LIMITS.steps, cpuMs: 10_000 };
    const err = await failure(evaluateBounded('($f := function($n) { $f($n + 1) + 1 }; $f(0))', {}, limits));
    expect(err.code).toBe('D1011');
    expect(err.message).toMatch(/recursion deeper than the limit at position \d+/);
  });

  test('a long evaluation stops at the step limit, whatever the load of the machine', async () => {
    const err = await failure(evaluateBounded('$count([1..4000].($ * 2))', {}));
    // The step limit, or the CPU limit first when a cold or busy process runs those steps slowly.
    expect(['STEPS', 'CPU']).toContain(err.code);
    expect(err.message).toMatch(/(took more than 5000 steps|used more than 50 ms of CPU) at position \d+/);
  });

  test('an evaluation of few but costly steps stops at the CPU time limit', async () => {
    const err = await failure(evaluateBounded('[1..2000].$length($pad("", 1000000, "x"))', {}));
    expect(err.code).toBe('CPU');
    expect(err.message).toMatch(/used more than 50 ms of CPU/);
  });

  test('evaluations side by side are each charged their own steps and time only', async () => {
    // Run interleaved, each would be charged the steps and CPU time of all of them together.
    const results = await Promise.all(
      Array.from({ length: 30 }, () => evaluateBounded('$count([1..300].($ * 2))', {})),
    );
    expect(results).toEqual(Array.from({ length: 30 }, () => 300));
  });

  test('sequences are bounded', async () => {
    const err = await failure(evaluateBounded('$sum([1..9000000].($ * 2))', {}));
    expect(err.code).toBe('D2015');
  });

  test('the input is bounded', async () => {
    const big = { text: 'x'.repeat(EXPRESSION_LIMITS.inputBytes) };
    const err = await failure(evaluateBounded('text', big));
    expect(err.message).toMatch(/expressions read at most/);
  });

  test('a regular expression is matched against bounded strings only', async () => {
    const long = 'a'.repeat(EXPRESSION_LIMITS.regexSubjectChars + 1);
    const err = await failure(evaluateBounded('$contains(s, /b/)', { s: long }));
    expect(err.message).toMatch(/regular expression was matched against/);
  });
});

describe('the main thread', () => {
  const HOSTILE = '[1..2000].$length($pad("", 1000000, "x"))'; // runs to the CPU bound, few costly steps

  test('keeps its event loop turning while hostile evaluations run', async () => {
    // Evaluated on this thread, an evaluation is one chain of promise reactions: no timer fires until it
    // ends, so no tick would ever be counted while one is in flight. On a thread of their own, ticks come.
    let inFlight = 0;
    let ticksInFlight = 0;
    const ticker = setInterval(() => (ticksInFlight += inFlight > 0 ? 1 : 0), 5);
    try {
      const errors: ExpressionError[] = [];
      const keepBusy = async () => {
        for (let i = 0; i < 20 && ticksInFlight < 10; i++) {
          inFlight += 1;
          errors.push(await failure(evaluateBounded(HOSTILE, {})).finally(() => (inFlight -= 1)));
        }
      };
      await Promise.all([keepBusy(), keepBusy()]);
      expect(ticksInFlight).toBeGreaterThanOrEqual(10);
      for (const err of errors) expect(err.code).toBe('CPU');
    } finally {
      clearInterval(ticker);
    }
  });

  test('stops an evaluation stuck in one step, and the next one runs', async () => {
    // Alternatives that match the same text backtrack exponentially (no nested quantifier: allowed at save).
    const stuck = `$contains("${'a'.repeat(40)}c", /^(a|a)*$/)`;
    expect(expressionProblem(stuck)).toBeUndefined();
    const short = new ExpressionPool({ wallClockMs: 1_000 });
    try {
      const err = await failure(short.evaluate(stuck, {}));
      expect(err).toBeInstanceOf(ExpressionError);
      expect(err.code).toBe('STOPPED');
      expect(err.message).toMatch(/ran longer than 1000 ms in one step .* the evaluation was stopped/);
      expect(await short.evaluate('data.a + 1', { data: { a: 1 } })).toBe(2);
    } finally {
      await short.close();
    }
  });
});

describe('transformations', () => {
  test('body and headers, expressions and literals', async () => {
    const out = await transformEvent(
      {
        body: '{"order": data.orderNumber, "amount": data.total * 100, "kind": type}',
        headers: { 'x-order': 'data.orderNumber', 'x-api-version': 'Version 2', 'x-total': 'data.total' },
      },
      event({ orderNumber: 'SO-1', total: 12.5 }),
    );
    expect(JSON.parse(out.body)).toEqual({ order: 'SO-1', amount: 1250, kind: 'shop.OrderPaid' });
    expect(out.headers).toEqual({ 'x-order': 'SO-1', 'x-api-version': 'Version 2', 'x-total': '12.5' });
  });

  test('a body over the output limit fails', async () => {
    const err = await failure(transformEvent({ body: '$pad("", 300000, "x")' }, event({})));
    expect(err.message).toMatch(/transformed body is \d+ bytes \(at most 262144\)/);
  });

  test('reserved or invalid header names are refused', () => {
    expect(transformProblem({ body: 'data', headers: { 'webhook-signature': 'x' } })?.message).toMatch(
      /set by hookflow/,
    );
    expect(transformProblem({ body: 'data', headers: { 'bad name': 'x' } })?.message).toMatch(/not a valid/);
    expect(transformProblem({ body: 'data', headers: { 'x-ok': 'data.a' } })).toBeUndefined();
  });
});
