import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `npm start`'s record of the dev server it runs on a data directory (`<dataDir>/dev-server.json`), so
 * that the next start can stop one that a SIGKILLed start left behind. A pid alone could have been
 * reused by another process since: each pid is recorded with its process's start time, and only a
 * process with the same pid and start time (or, when the recorded shell is gone, a process of its group
 * serving the same SQLite file) is stopped.
 */
export interface DevServerRecord {
  /** The `npm start` process (src/stack/start.ts) that owns the dev server. */
  owner: ProcessIdentity;
  /** The dev server's watchdog shell: the leader of the dev server's process group. */
  server: ProcessIdentity;
  dbFile: string;
}

export interface ProcessIdentity {
  pid: number;
  /** Start time as the system reports it (Linux: clock ticks after boot; elsewhere `ps -o lstart`). */
  started: string;
}

/** The identity of a running process, undefined if there is none with that pid (or only a zombie). */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ... : comm may contain spaces and parentheses, the rest follows the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
      return { pid, started: fields[19]! };
    } catch {
      return undefined;
    }
  }
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return started ? { pid, started } : undefined;
  } catch {
    return undefined;
  }
}

const isSame = (recorded: ProcessIdentity) => processIdentity(recorded.pid)?.started === recorded.started;

export function writeDevServerRecord(file: string, record: DevServerRecord): void {
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export function removeDevServerRecord(file: string): void {
  rmSync(file, { force: true });
}

function readRecord(file: string): DevServerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as DevServerRecord;
    return Number.isInteger(record?.owner?.pid) && Number.isInteger(record?.server?.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Linux: processes of process group `pgid` serving `dbFile` (`--db-filename <dbFile>` on their command
 * line). Finds a dev server whose watchdog shell is gone.
 */
function groupMembersServing(pgid: number, dbFile: string): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--db-filename');
      if (at >= 0 && argv[at + 1] === dbFile) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone
  }
}

async function waitGone(alive: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * Before `npm start` starts a dev server on `dbFile`: if the record names an owner that still runs,
 * refuses (another `npm start` uses this data directory); if it names a dev server whose owner is gone
 * (SIGKILLed), stops it, SIGTERM then SIGKILL after `graceMs`, and waits until it has exited.
 * Returns what it did, for the log.
 */
export async function stopStaleDevServer(file: string, dbFile: string, graceMs = 10_000): Promise<string | undefined> {
  const record = readRecord(file);
  if (!record) return undefined;
  if (record.owner.pid !== process.pid && isSame(record.owner)) {
    throw new Error(
      `hookflow is already running on this data directory (pid ${record.owner.pid}, ${file}): stop it first, or set HOOKFLOW_DATA_DIR to another directory`,
    );
  }
  const pgid = record.server.pid;
  let targets: () => number[];
  if (isSame(record.server)) {
    // The watchdog shell leads the group: signal the whole group (shell, dev server, watcher).
    targets = () => (isSame(record.server) || groupMembersServing(pgid, record.dbFile).length > 0 ? [-pgid] : []);
  } else {
    targets = () => groupMembersServing(pgid, record.dbFile);
  }
  const initial = targets();
  if (initial.length === 0 || record.dbFile !== dbFile) {
    removeDevServerRecord(file);
    return undefined;
  }
  for (const target of initial) signal(target, 'SIGTERM');
  if (!(await waitGone(() => targets().length > 0, graceMs))) {
    for (const target of targets()) signal(target, 'SIGKILL');
    await waitGone(() => targets().length > 0, 10_000);
  }
  removeDevServerRecord(file);
  return `stopped the dev server a previous start left running (process group ${pgid}, owner pid ${record.owner.pid} is gone)`;
}
