import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { expandEnv, formatPath, MissingEnvError } from './env';
import { configSchema, type HookflowConfig } from './schema';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_CONFIG_PATH = './hookflow.config.yaml';

/** Parses and validates a config document; PORT and TEMPORAL_ADDRESS override the file. */
export function parseConfig(yamlText: string, env: NodeJS.ProcessEnv = process.env, origin = 'config'): HookflowConfig {
  let document: unknown;
  try {
    document = parseYaml(yamlText) ?? {};
  } catch (err) {
    throw new ConfigError(`${origin}: not valid YAML: ${(err as Error).message}`);
  }
  let expanded: unknown;
  try {
    expanded = expandEnv(document, env);
  } catch (err) {
    if (err instanceof MissingEnvError) throw new ConfigError(`${origin}: ${err.message}`);
    throw err;
  }
  const result = configSchema.safeParse(expanded);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
    throw new ConfigError(`${origin} is invalid:\n${lines.join('\n')}`);
  }
  const config = result.data;
  if (env.PORT !== undefined) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new ConfigError(`PORT: "${env.PORT}" is not a port number`);
    config.server.port = port;
  }
  if (env.HOOKFLOW_HOST) config.server.host = env.HOOKFLOW_HOST;
  if (env.TEMPORAL_ADDRESS) config.temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) config.temporal.namespace = env.TEMPORAL_NAMESPACE;
  if (env.HOOKFLOW_TASK_QUEUE) config.temporal.taskQueue = env.HOOKFLOW_TASK_QUEUE;
  return config;
}

/** Loads the file named by HOOKFLOW_CONFIG (default ./hookflow.config.yaml). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HookflowConfig {
  const path = resolve(env.HOOKFLOW_CONFIG ?? DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseConfig(text, env, path);
}
