import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { SERVER_MAIN } from '../runtime/entries.js';
import { isAlive, processStartTime } from '../runtime/proc.js';
import type { ChildSpec } from './child-spec.js';

// A server's young generation at V8's default (up to 16 MiB a semi-space) stays committed
// once a write burst has grown it: 2 MiB costs more scavenges of a tiny heap and saves ~15
// MB of RSS in each server (the key-value store is off-heap, so little survives them).
const SERVER_NODE_FLAGS = ['--max-semi-space-size=2'];

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** A server process as the executor holds it: how to address it and when it ends. */
export interface ServerProcess {
  token: string;
  pid: number;
  startTime: number | null;
  exited: Promise<ExitInfo>;
}

/**
 * glibc's malloc thresholds, frozen at its own defaults (an operator's settings win). Left
 * dynamic, the first large block freed (a snapshot part, an index rebuilt at a doubling)
 * raises the mmap threshold to its size, so every later block that size comes from the heap
 * and stays in RSS after it is freed: 15–20 MB per server at 10⁶ keys, measured.
 */
const SERVER_MALLOC = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

export function newToken(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Starts a server from its spec, in its own session, so a terminal's Ctrl-C and our death don't
 * take it down. node:child_process, not execa: the watchdog stays lean (execa alone costs it
 * megabytes of RSS and ~100 ms of start-up).
 */
export function spawnServer(spec: ChildSpec, cfg: Config & { dataDir: string }): ServerProcess {
  const token = newToken();
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, SERVER_MAIN], {
    env: { ...SERVER_MALLOC, ...process.env, OSPS_ROLE: spec.start.role, OSPS_TOKEN: token, OSPS_CONFIG: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  // A spawn that fails reports it here (and leaves pid undefined): never an uncaught 'error'.
  child.on('error', () => {});
  const pid = child.pid;
  if (pid === undefined) throw new Error(`spawn of the ${spec.role} failed`);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { token, pid, startTime: processStartTime(pid), exited };
}

/** A server recorded by a previous watchdog, verified by pid and start time; we watch it via /proc. */
export function adoptServer(rec: { pid: number; token: string; startTime: number | null }): ServerProcess {
  return { ...rec, exited: watchForeignExit(rec.pid) };
}

/** SIGKILL and wait until the kernel has reaped it: a fenced process must be gone, not dying. */
export async function killAndReap(proc: { pid: number; exited: Promise<ExitInfo> }, timeoutMs = 5000): Promise<ExitInfo> {
  try {
    process.kill(proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ExitInfo>((resolve) => {
    timer = setTimeout(() => resolve({ code: null, signal: 'SIGKILL' }), timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** For adopted children that are not ours to wait on: poll /proc until the pid is gone. */
export function watchForeignExit(pid: number, pollMs = 20): Promise<ExitInfo> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      // An adopted server is not our child: when it dies it may linger as a zombie of init.
      if (!isAlive(pid)) {
        clearInterval(t);
        resolve({ code: null, signal: null });
      }
    }, pollMs);
  });
}
