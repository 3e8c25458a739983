import { ExpressionError, expressionProblem } from '../../src/subscriptions/expressions';
import { ExpressionPool, closeExpressionPool, transformEvent } from '../../src/subscriptions/expression-pool';
import type { OutboundEvent } from '../../src/shared/delivery';

// On an expression thread, as in the worker: its CPU bound never counts this process's garbage collection.
const pool = new ExpressionPool({ wallClockMs: 30_000 });
const evaluateBounded = (source: string, input: unknown) => pool.evaluate(source, input);
afterAll(async () => {
  await pool.close();
  await closeExpressionPool();
});

const failure = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    return err as ExpressionError;
  }
  throw new Error('expected a failure');
};

describe('huge strings fail before they are built', () => {
  test.each([
    ['$pad("", 500000000)', /\$pad to 500000000 characters/],
    ['$join([1..100000].$string($), "xxxxxxxxxx")', /steps|CPU|\$join/],
    ['$reduce([1..40], function($a, $b){$a & $a}, "x")', /a step built \d+ characters/],
    ['$replace($pad("", 100000, "a"), "a", "bbbbbbbbbbbbbbbbbbbb")', /\$replace could build/],
    ['($s := $pad("", 600000, "x"); {"a": $s, "b": $s} & "")', /`&` of a value too large/],
    ['($s := $pad("", 600000, "x"); $string([$s, $s]))', /\$string of a value too large/],
  ])('%s', async (source, message) => {
    expect(expressionProblem(source)).toBeUndefined(); // not decidable at save time: bounded at run time
    const err = await failure(evaluateBounded(source, {}));
    expect(err.message).toMatch(message);
  });

  test('the checked built-ins still do their work', async () => {
    expect(await evaluateBounded('$pad("ab", 5, "-")', {})).toBe('ab---');
    expect(await evaluateBounded('$join(["a", "b"], ",")', {})).toBe('a,b');
    expect(await evaluateBounded('$string({"a": 1})', {})).toBe('{"a":1}');
    expect(await evaluateBounded('$string(a)', { a: 'x' })).toBe('x');
    expect(await evaluateBounded('$replace("a-b-c", "-", "_")', {})).toBe('a_b_c');
    expect(await evaluateBounded('$replace("ab12", /[0-9]+/, "<$0>")', {})).toBe('ab<12>');
    expect(await evaluateBounded('"x" & [1, 2]', {})).toBe('x[1,2]');
  });
});

describe('loops, recursion and missing functions or fields', () => {
  test('an endless recursion fails on the step or depth bound', async () => {
    const err = await failure(evaluateBounded('($f := function($n){$f($n + 1)}; $f(0))', {}));
    expect(err.message).toMatch(/steps|recursion|CPU/);
  });

  test('a long loop fails on the step bound', async () => {
    const err = await failure(evaluateBounded('$sum([1..100000].($ * 2))', {}));
    expect(err.message).toMatch(/steps|CPU/);
  });

  test('an unknown function or $eval is refused at save time', () => {
    expect(expressionProblem('$foo(data)')).toMatch(/\$foo is not a JSONata function at position/);
    expect(expressionProblem('$eval("1 + 1")')).toMatch(/\$eval is not available/);
    expect(expressionProblem('($f := function($x){$x}; $f(1))')).toBeUndefined();
  });

  test('a transformation whose fields are all missing fails visibly', async () => {
    const event = { id: 'api/e', type: 't', occurredAt: '2026-01-01T00:00:00Z', data: {} } as unknown as OutboundEvent;
    const err = await failure(transformEvent({ body: 'data.nothing.here' }, event));
    expect(err.message).toMatch(/yielded nothing/);
    expect((await transformEvent({ body: '{"n": data.nothing}' }, event)).body).toBe('{}');
  });
});
