import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

const ROOT = resolve(__dirname, '../../..');
/** `stack` is what `npm start` runs (after scripts/start.sh): dev server, worker and API in one process. */
const ENTRY = { api: 'src/api/server.ts', worker: 'src/worker.ts', stack: 'src/stack/start.ts' } as const;
const TAIL_LINES = 60;

/** The temporal CLI that globalSetup resolved (or built). */
export function cliPath(): string {
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI is not set (globalSetup sets it)');
  return cli;
}

/**
 * hookflow's API or worker as a real `node` process, as in production: started, SIGKILLed and started
 * again by the fault tests. Output goes to a log file and a short in-memory tail for failure reports.
 */
export class HookflowProcess {
  /** How many times it was started. */
  starts = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private readonly lines: string[] = [];
  /** Output since the latest start only: waitForOutput must not match a previous life's lines. */
  private current = '';
  private readonly waiters = new Set<() => void>();
  private readonly log: WriteStream;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  constructor(
    readonly what: keyof typeof ENTRY,
    private readonly env: Record<string, string>,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  /** The pid of the current (or last) life. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.what} is already running`);
    this.starts++;
    this.current = '';
    this.log.write(`--- start ${this.starts} at ${new Date().toISOString()} ---\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY[this.what]], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.log.write(text);
      this.current += text;
      if (this.current.length > 1_000_000) this.current = this.current.slice(-100_000);
      for (const line of text.split('\n').filter(Boolean)) {
        this.lines.push(line);
        if (this.lines.length > TAIL_LINES) this.lines.shift();
      }
      for (const wake of this.waiters) wake();
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((res) =>
      child.once('exit', (code, signal) => {
        this.log.write(`--- exit ${code ?? signal} at ${new Date().toISOString()} ---\n`);
        for (const wake of this.waiters) wake();
        res();
      }),
    );
    this.child = child;
    process.once('exit', this.killOnExit);
  }

  /** Waits for a line of this life's output; fails if the process exits first. */
  async waitForOutput(pattern: RegExp, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.current)) {
      if (!this.running) throw new Error(`${this.what} exited before printing ${pattern}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.what} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise<void>((wake) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          wake();
        };
        const timer = setTimeout(done, 500);
        this.waiters.add(done);
      });
    }
  }

  /** SIGKILL: no shutdown hook runs, in-flight work is simply gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
    process.removeListener('exit', this.killOnExit);
  }

  /** SIGTERM (graceful), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
    process.removeListener('exit', this.killOnExit);
  }

  tail(): string {
    return this.lines.join('\n');
  }
}

/** Polls a condition; `progress` says how far it got when the bound is hit. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  progress?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${progress ? ` (${progress()})` : ''}`);
    await sleep(200);
  }
}

/** Waits until the API answers `/readyz` with 200 (listening, and Temporal reachable). */
export async function waitHealthy(apiUrl: string, timeoutMs = 120_000): Promise<void> {
  await waitUntil(
    async () => {
      try {
        const res = await request(`${apiUrl}/readyz`, { headersTimeout: 5000, bodyTimeout: 5000 });
        await res.body.dump();
        return res.statusCode === 200;
      } catch {
        return false;
      }
    },
    `${apiUrl}/readyz`,
    timeoutMs,
  );
}
