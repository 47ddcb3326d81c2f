import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { Config } from '../config.js';
import type { Role } from '../protocol/control.js';
import type { Standby } from '../protocol/standby.js';
import { isAlive, processStartTime } from '../runtime/proc.js';

const SERVER_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'server', 'main.js');

export type ChildState = 'starting' | 'ready' | 'stopping' | 'exited';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** What the watchdog knows of one server process: the data its state machine reads. */
export interface Child {
  role: Role;
  pid: number;
  token: string;
  startTime: number | null;
  spawnedAt: number;
  state: ChildState;
  /** A spawned child has a handle; an adopted one (from a previous watchdog) does not. */
  handle: ResultPromise | null;
  exited: Promise<ExitInfo>;
  helloAt: number | null;
  lastPongAt: number | null;
  lastPingSentAt: number | null;
  /** When the oldest ping still without an answer was sent: the alarm runs from it. */
  unansweredSince: number | null;
  rttMs: number | null;
  commitSeq: number;
  keys: number;
  standby: Standby;
  /** The standby pid a primary last reported about. */
  standbyPeer: number | null;
  synced: boolean;
  cpu: number | null;
  rss: number | null;
  lastFailure: string | null;
  lastFailureCode: string | null;
  /** How it last ended (exit code or signal), for the give-up message. */
  lastExit: string | null;
  /** Role and epoch the process itself reported in its last pong (adoption checks them). */
  reportedRole: Role | null;
  reportedEpoch: number | null;
}

export function newToken(): string {
  return randomBytes(12).toString('hex');
}

/** Spawns a server in its own session, so a terminal's Ctrl-C and our death don't take it down. */
export function spawnServer(role: Role, cfg: Config & { dataDir: string }): Child {
  const token = newToken();
  const handle = execa(process.execPath, [SERVER_MAIN], {
    env: { OSPS_ROLE: role, OSPS_TOKEN: token, OSPS_CONFIG: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit'],
    reject: false,
    cleanup: false,
    detached: true,
    buffer: false,
  });
  const pid = handle.pid;
  if (pid === undefined) throw new Error(`spawn of the ${role} failed`);
  const exited = new Promise<ExitInfo>((resolve) => {
    handle.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // execa's result promise is awaited via `exited`; this keeps a rejection from being unhandled.
  handle.catch(() => {});
  return { ...freshChild(role, pid, token, processStartTime(pid), exited), handle };
}

function freshChild(role: Role, pid: number, token: string, startTime: number | null, exited: Promise<ExitInfo>): Child {
  return {
    role,
    pid,
    token,
    startTime,
    spawnedAt: Date.now(),
    state: 'starting',
    handle: null,
    exited,
    helloAt: null,
    lastPongAt: null,
    lastPingSentAt: null,
    unansweredSince: null,
    rttMs: null,
    commitSeq: 0,
    keys: 0,
    standby: 'absent',
    standbyPeer: null,
    synced: false,
    cpu: null,
    rss: null,
    lastFailure: null,
    lastFailureCode: null,
    lastExit: null,
    reportedRole: null,
    reportedEpoch: null,
  };
}

/** A server recorded by a previous watchdog, verified by pid and start time; we watch it via /proc. */
export function adoptServer(rec: { role: Role; pid: number; token: string; startTime: number | null }): Child {
  const child = freshChild(rec.role, rec.pid, rec.token, rec.startTime, watchForeignExit(rec.pid));
  child.state = 'ready';
  child.helloAt = Date.now();
  // The alarm runs from adoption: a server hung before we came is caught one alarm later.
  child.lastPongAt = Date.now();
  return child;
}

/** SIGKILL and wait until the kernel has reaped it: a fenced process must be gone, not dying. */
export async function killAndReap(child: Child, timeoutMs = 5000): Promise<ExitInfo> {
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  const timeout = new Promise<ExitInfo>((resolve) =>
    setTimeout(() => resolve({ code: null, signal: 'SIGKILL' }), timeoutMs).unref(),
  );
  return Promise.race([child.exited, timeout]);
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
