import { knownEventTypes, type KnownEventTypes } from '../sources';

/** hookflow's own events (`hookflow.test`, operational events): always a valid prefix. */
const OWN_PREFIX = 'hookflow';

const flat = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Levenshtein distance, for near misses of short names. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The source kind a prefix was probably meant to be: the vendor's name alone (`extend`, `ongoing`),
 * written together (`extendcommerce`), cut short (`ongo`) or misspelt (`extnd`, `ongoing-wm`).
 */
function lookalikeOf(prefix: string): KnownEventTypes | undefined {
  const given = flat(prefix);
  return knownEventTypes().find(({ kind }) => {
    const first = kind.split('-')[0]!;
    return (
      given === flat(kind) ||
      given.startsWith(first) ||
      (given.length >= 4 && first.startsWith(given)) ||
      distance(prefix, kind) <= 2 ||
      distance(given, first) <= 1
    );
  });
}

/** A known type written in another case or a letter or two off: `extend-commerce.orderCreated`. */
function closestType(trigger: string, types: readonly string[]): string | undefined {
  const lower = trigger.toLowerCase();
  return (
    types.find((type) => type.toLowerCase() === lower) ?? types.find((type) => distance(type.toLowerCase(), lower) <= 2)
  );
}

const namesOf = (known: KnownEventTypes) => known.types.map((type) => type.slice(known.kind.length + 1)).join(', ');

/**
 * Why a trigger (already of the form `<prefix>.<type>`, `<prefix>.*` or `*`) would match no event, or
 * undefined. Triggers match exactly, by `<prefix>.*` or `*` (triggersMatch in src/shared/subscription.ts).
 * A source kind's prefix needs one of its known types (or `*`); a prefix that looks like a source but is
 * not a kind (`extend`, `ongoing`, a configured source id) is refused with the right one; `hookflow` and
 * any other prefix (events published through POST /api/events, e.g. `shop.*`) are free.
 */
export function triggerProblem(
  trigger: string,
  sources: readonly { id: string; kind: string }[] = [],
): string | undefined {
  const dot = trigger.indexOf('.');
  if (trigger === '*' || dot < 0) return undefined;
  const prefix = trigger.slice(0, dot);
  const name = trigger.slice(dot + 1);
  const catalogue = knownEventTypes();

  const own = catalogue.find((known) => known.kind === prefix);
  if (own) {
    if (name === '*' || own.open || own.types.includes(trigger)) return undefined;
    const near = closestType(trigger, own.types);
    return (
      `no ${own.title} event type is named '${name}'${near ? ` (did you mean ${near}?)` : ''}: ` +
      `use ${own.kind}.* or one of ${own.kind}.{${namesOf(own)}}`
    );
  }
  if (prefix === OWN_PREFIX) return undefined;

  const source = sources.find((s) => s.id === prefix);
  const ofSource = source && catalogue.find((known) => known.kind === source.kind);
  if (ofSource)
    return `'${prefix}' is a source id, not a prefix: events are named by the source's kind; the ${ofSource.title} types are ${ofSource.kind}.*`;

  const alike = lookalikeOf(prefix);
  if (alike) return `unknown prefix '${prefix}': the ${alike.title} types are ${alike.kind}.*`;
  return undefined;
}
