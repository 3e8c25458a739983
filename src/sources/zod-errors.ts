import { z } from 'zod';
import { formatPath } from '../config/env';
import { InvalidPayloadError } from '../errors';
import { hasControlCharacters } from '../shared/bounded';

/** A source's id of a notification, part of a workflow id: non-empty, no control characters. */
export const keyText = z
  .string()
  .min(1)
  .refine((text) => !hasControlCharacters(text), 'must not contain control characters');

/** Parses with a zod schema; a violation becomes a 400 that lists each offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  throw new InvalidPayloadError(`${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}
