/**
 * Replaces `${NAME}` in every string of a parsed YAML document with the environment variable NAME
 * (`$${NAME}` stays literal). A missing variable is an error that names the config key it was used in.
 */
export class MissingEnvError extends Error {}

export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      if (whole.startsWith('$$')) return whole.slice(1);
      const found = env[name];
      if (found === undefined) {
        throw new MissingEnvError(`${formatPath(path)}: environment variable ${name} is not set`);
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => expandEnv(item, env, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, [...path, k])]));
  }
  return value;
}

/** `sources.0.secret` -> `sources[0].secret` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return (
    path.reduce<string>((out, part) => {
      if (typeof part === 'number' || /^\d+$/.test(String(part))) return `${out}[${String(part)}]`;
      return out ? `${out}.${String(part)}` : String(part);
    }, '') || '(root)'
  );
}
