/** A string as a literal in a Temporal visibility query (list filter): quoted, its quotes and backslashes escaped. */
export const visibilityLiteral = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
