import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Path of the `temporal` CLI: TEMPORAL_CLI, PATH, or built once by scripts/ensure-temporal.sh. */
export function temporalCliPath(): string {
  const script = resolve(__dirname, '../../scripts/ensure-temporal.sh');
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
