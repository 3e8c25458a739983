import jsonata from 'jsonata';

/**
 * Bounds on the strings a JSONata evaluation builds. The output-size check comes after the fact; these
 * stop a huge string before it is built: safe replacements for the built-ins that can build one in a
 * single call (`$pad`, `$join`, `$string`, `$replace`), a check of every step's result, and a check of
 * the operands of `&` (which stringifies objects and arrays internally). `$eval` is off: it would run
 * expressions that were never checked at save time.
 */

/** Characters of any string an evaluation builds (the input is at most 1 MiB of JSON, so this fits it whole). */
export const STRING_CHARS = 1024 * 1024;

export class StringLimitError extends Error {
  readonly code = 'STRING';
  constructor(what: string) {
    super(`${what} (strings are at most ${STRING_CHARS} characters)`);
    this.name = 'ExpressionError';
  }
}

/** Would JSON.stringify(value) be longer than `limit`? Stops counting past the limit (cost O(limit)). */
export function jsonLongerThan(value: unknown, limit: number): boolean {
  let chars = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') chars += v.length + 2;
    else if (Array.isArray(v)) {
      chars += 1 + v.length;
      for (const item of v) stack.push(item);
    } else if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      chars += 1 + keys.length;
      for (const key of keys) {
        chars += key.length + 3;
        stack.push((v as Record<string, unknown>)[key]);
      }
    } else chars += 5; // numbers, booleans, null: short
    if (chars > limit) return true;
  }
  return false;
}

interface JsonataFunction {
  implementation: (...args: unknown[]) => unknown;
  signature?: { definition?: string };
}

/** The library's own built-ins, to call once the arguments are checked. */
const builtIns = (async () => {
  const names = ['pad', 'join', 'string', 'replace'] as const;
  const found = await Promise.all(names.map((n) => jsonata(`$${n}`).evaluate({}) as Promise<JsonataFunction>));
  return Object.fromEntries(names.map((n, i) => [n, found[i]!])) as Record<(typeof names)[number], JsonataFunction>;
})();

const SIGNATURES = {
  pad: '<s-ns?:s>',
  join: '<a<s>s?:s>',
  string: '<x-b?:s>',
  replace: '<s-(sf)(sf)n?:s>',
} as const;

function countOf(subject: string, pattern: string, max: number): number {
  if (pattern === '') return 0;
  let count = 0;
  for (let at = subject.indexOf(pattern); at !== -1 && count < max; at = subject.indexOf(pattern, at + pattern.length))
    count += 1;
  return count;
}

const checked = {
  async pad(this: unknown, str: string, width: number, char?: string) {
    if (Math.abs(width) > STRING_CHARS) throw new StringLimitError(`$pad to ${Math.abs(width)} characters`);
    return (await builtIns).pad.implementation.call(this, str, width, char);
  },
  async join(this: unknown, strs: string[] | undefined, separator?: string) {
    if (Array.isArray(strs)) {
      const chars = strs.reduce((n, s) => n + String(s).length, 0) + (separator ?? '').length * (strs.length - 1);
      if (chars > STRING_CHARS) throw new StringLimitError(`$join of ${chars} characters`);
    }
    return (await builtIns).join.implementation.call(this, strs, separator);
  },
  async string(this: unknown, arg: unknown, prettify?: boolean) {
    // Pretty printing adds indentation: count it as if it doubled the text.
    if (typeof arg === 'object' && arg !== null && jsonLongerThan(arg, prettify ? STRING_CHARS / 2 : STRING_CHARS))
      throw new StringLimitError('$string of a value too large');
    return (await builtIns).string.implementation.call(this, arg, prettify);
  },
  async replace(this: unknown, str: string | undefined, pattern: unknown, replacement: unknown, limit?: number) {
    if (typeof str === 'string' && typeof replacement === 'string') {
      const max = limit === undefined ? str.length + 1 : Math.min(limit, str.length + 1);
      const matches = typeof pattern === 'string' ? countOf(str, pattern, max) : max;
      // Each `$n` in the replacement inserts matched text, and all matches together are at most the subject.
      const refs = (replacement.match(/\$/g) ?? []).length;
      const bound = str.length + matches * replacement.length + refs * str.length;
      if (bound > STRING_CHARS)
        throw new StringLimitError(`$replace could build ${bound} characters (give it a smaller limit argument)`);
    }
    return (await builtIns).replace.implementation.call(this, str, pattern, replacement, limit);
  },
};

/** Registers the checked built-ins (and turns `$eval` off) on a compiled expression. */
export function bindCheckedStrings(expression: jsonata.Expression): void {
  for (const name of Object.keys(checked) as (keyof typeof checked)[])
    expression.registerFunction(name, checked[name] as (...args: unknown[]) => unknown, SIGNATURES[name]);
  expression.registerFunction('eval', () => {
    throw new StringLimitError('$eval is not available');
  });
}

/** The operands of `&` in an AST: their results are stringified by the library, so they are checked first. */
export function concatOperands(node: unknown, found = new WeakSet<object>(), seen = new Set<unknown>()) {
  if (!node || typeof node !== 'object' || seen.has(node)) return found;
  seen.add(node);
  const n = node as { type?: string; value?: unknown; lhs?: object; rhs?: object };
  if (n.type === 'binary' && n.value === '&') {
    if (n.lhs) found.add(n.lhs);
    if (n.rhs) found.add(n.rhs);
  }
  for (const value of Object.values(node)) concatOperands(value, found, seen);
  return found;
}

/** JSONata calls this after each step with its result: no string (nor `&` operand) past STRING_CHARS. */
export function checkStepResult(operands: WeakSet<object>, expr: object, result: unknown): void {
  if (typeof result === 'string') {
    if (result.length > STRING_CHARS) throw new StringLimitError(`a step built ${result.length} characters`);
  } else if (typeof result === 'object' && result !== null && operands.has(expr)) {
    if (jsonLongerThan(result, STRING_CHARS)) throw new StringLimitError('`&` of a value too large');
  }
}
