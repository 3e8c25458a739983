/** Deepest nesting hookflow accepts in a JSON body: the sources' payloads use a handful of levels. */
export const MAX_JSON_DEPTH = 64;

/**
 * True if the parsed JSON value nests arrays/objects deeper than `limit`. Iterative, so a hostile body
 * cannot overflow the stack here, and checked before anything re-serialises it (JSON.stringify would).
 */
export function nestsDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
