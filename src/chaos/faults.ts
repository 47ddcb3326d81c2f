import fs from 'node:fs';
import { OspsError } from '../errors.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { makeFifo } from '../ipc/fifo.js';
import { corruptHeader, corruptUnreadEntry } from './corrupt-shm.js';
import { fillRing } from './fill-ring.js';
import { findPid, liveStatus } from './targets.js';
import { isAlive } from '../runtime/proc.js';
import { setTimeout as sleep } from 'node:timers/promises';

export const FAULTS = [
  'kill-primary',
  'kill-secondary',
  'kill-watchdog',
  'kill-launcher',
  'hang-primary',
  'hang-secondary',
  'pause',
  'cut-pipe',
  'corrupt-shm',
  'fill-ring',
  'memory-hog',
] as const;
export type FaultName = (typeof FAULTS)[number];

export const FAULT_HELP: Record<FaultName, string> = {
  'kill-primary': 'SIGKILL the primary (expect: failover)',
  'kill-secondary': 'SIGKILL the secondary (expect: replaced and resynced)',
  'kill-watchdog': 'SIGKILL the watchdog (expect: the launcher starts one that adopts the servers)',
  'kill-launcher': 'SIGKILL the launcher (expect: the watchdog keeps serving; servers outlive nothing)',
  'hang-primary': 'SIGSTOP the primary, SIGCONT after --for MS if given (expect: fenced and replaced past the alarm)',
  'hang-secondary': 'SIGSTOP the secondary, SIGCONT after --for MS if given (expect: replaced past the alarm)',
  pause: 'SIGSTOP a role (--role, default primary) for less than the alarm, then SIGCONT (expect: no failover)',
  'cut-pipe': 'break the FIFO link between the servers (--pipe s2p|p2s; --how frame|unlink|replace) (expect: re-paired)',
  'corrupt-shm': 'flip a byte in an unread ring entry, or (--where header) in the shm header (expect: caught, header repaired, standby resynced)',
  'fill-ring': 'stall the standby and fill the ring with writes (expect: backpressure, never overwrite)',
  'memory-hog': 'make a server (--role, default primary) exceed --memory-ceiling (expect: restarted, via failover for the primary)',
};

export interface FaultOptions {
  /** hang-*, pause, fill-ring: SIGCONT after this long (pause defaults to half the alarm). */
  forMs?: number;
  role?: 'primary' | 'secondary';
  pipe?: 'p2s' | 's2p';
  /** cut-pipe: write a corrupt frame (default), unlink the FIFO, or replace it with another one. */
  how?: CutHow;
  /** corrupt-shm: an unread ring entry (default) or the header. */
  where?: 'entry' | 'header';
}

export const CUT_HOWS = ['frame', 'unlink', 'replace'] as const;
export type CutHow = (typeof CUT_HOWS)[number];

/** What was done, to whom and when: the chaos report matches events against it. */
export interface FaultRecord {
  fault: FaultName;
  role: string;
  pid: number;
  injectedAt: number;
  endedAt: number;
  detail: string;
}

/** Whether the fault, done with these options, should make the watchdog fail the primary over. */
export function expectsFailover(fault: FaultName, opts: FaultOptions, alarmMs: number): boolean {
  switch (fault) {
    case 'kill-primary':
      return true;
    case 'hang-primary':
      return opts.forMs === undefined || opts.forMs > alarmMs;
    case 'memory-hog':
      return (opts.role ?? 'primary') === 'primary';
    default:
      return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    throw new OspsError('SIGNAL_FAILED', `cannot send ${sig} to pid ${pid}: ${(err as Error).message}`);
  }
}


/**
 * SIGKILL and wait (up to 2 s) until the process is gone or a zombie. kill(2) only queues the
 * signal: tearing down a large address space takes a while, and a caller that checks right after
 * the command returns must not find the process still there.
 */
async function killAndWait(pid: number): Promise<string> {
  signal(pid, 'SIGKILL');
  const t0 = Date.now();
  while (isAlive(pid)) {
    if (Date.now() - t0 > 2000) return 'SIGKILL (still present after 2 s)';
    await sleep(2);
  }
  return 'SIGKILL';
}

/** SIGSTOP, then SIGCONT after `forMs` (if the process still exists: the watchdog may have fenced it). */
async function stopFor(pid: number, forMs: number | undefined): Promise<string> {
  signal(pid, 'SIGSTOP');
  if (forMs === undefined) return 'stopped (no SIGCONT)';
  await sleep(forMs);
  try {
    process.kill(pid, 'SIGCONT');
    return `stopped for ${forMs} ms, then continued`;
  } catch {
    return `stopped; gone before SIGCONT after ${forMs} ms (fenced)`;
  }
}

export async function injectFault(paths: RuntimePaths, fault: FaultName, opts: FaultOptions = {}): Promise<FaultRecord> {
  const record = (role: string, pid: number, injectedAt: number, detail: string): FaultRecord => ({
    fault,
    role,
    pid,
    injectedAt,
    endedAt: Date.now(),
    detail,
  });
  switch (fault) {
    case 'kill-primary':
    case 'kill-secondary':
    case 'kill-watchdog':
    case 'kill-launcher': {
      const role = fault.slice('kill-'.length) as 'primary' | 'secondary' | 'watchdog' | 'launcher';
      const pid = await findPid(paths, role);
      const t = Date.now();
      return record(role, pid, t, await killAndWait(pid));
    }
    case 'hang-primary':
    case 'hang-secondary': {
      const role = fault.slice('hang-'.length);
      const pid = await findPid(paths, role as 'primary' | 'secondary');
      const t = Date.now();
      return record(role, pid, t, await stopFor(pid, opts.forMs));
    }
    case 'pause': {
      const status = await liveStatus(paths);
      const role = opts.role ?? 'primary';
      const forMs = opts.forMs ?? Math.floor(status.config.alarmMs / 2);
      if (forMs >= status.config.alarmMs) {
        throw new OspsError('USAGE', `pause --for ${forMs} is not shorter than the ${status.config.alarmMs} ms alarm: use hang-${role}`);
      }
      const pid = await findPid(paths, role);
      const t = Date.now();
      return record(role, pid, t, await stopFor(pid, forMs));
    }
    case 'cut-pipe': {
      const pipe = opts.pipe ?? 's2p';
      const file = pipe === 'p2s' ? paths.p2sFifo : paths.s2pFifo;
      const reader = await findPid(paths, pipe === 'p2s' ? 'secondary' : 'primary');
      const role = pipe === 'p2s' ? 'secondary' : 'primary';
      const how = opts.how ?? 'frame';
      // The replacement is made beforehand, so the fault itself is one rename.
      const replacement = how === 'replace' ? await makeSpareFifo(file) : null;
      const t = Date.now();
      if (how !== 'frame') {
        // The open ends keep working on the old FIFO: only its path is gone (or leads elsewhere).
        if (replacement) renameOver(replacement, file);
        else fs.unlinkSync(file);
        return record(role, reader, t, how === 'replace' ? `${pipe} FIFO replaced by a new one at its path` : `${pipe} FIFO unlinked`);
      }
      // A frame with a bad prefix desynchronises the stream for good: the reader must drop the link.
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      try {
        fs.writeSync(fd, Buffer.from('CUT!CUT!'));
      } finally {
        fs.closeSync(fd);
      }
      return record(role, reader, t, `corrupt frame written into ${pipe}`);
    }
    case 'corrupt-shm': {
      const pid = await findPid(paths, 'secondary');
      const status = await liveStatus(paths);
      const t = Date.now();
      const detail = opts.where === 'header' ? corruptHeader(paths) : await corruptUnreadEntry(paths, status.endpoint, pid);
      return record('secondary', pid, t, detail);
    }
    case 'fill-ring': {
      const pid = await findPid(paths, 'secondary');
      const status = await liveStatus(paths);
      const t = Date.now();
      const detail = await fillRing(paths, status.endpoint, pid, opts.forMs);
      return record('secondary', pid, t, detail);
    }
    case 'memory-hog': {
      const status = await liveStatus(paths);
      if (status.config.memoryCeilingBytes <= 0) {
        throw new OspsError('USAGE', `instance '${paths.name}' has no memory ceiling: start it with --memory-ceiling MB`);
      }
      const role = opts.role ?? 'primary';
      const pid = await findPid(paths, role);
      const t = Date.now();
      signal(pid, 'SIGUSR2');
      return record(role, pid, t, `asked to allocate ballast past the ${status.config.memoryCeilingBytes / 1048576} MiB ceiling`);
    }
  }
}

/** A new FIFO next to `file`, to be renamed over it. */
async function makeSpareFifo(file: string): Promise<string> {
  const spare = `${file}.chaos-${process.pid}`;
  await makeFifo(spare);
  return spare;
}

/**
 * Puts the spare FIFO at `file` in one step: unlinking first and then creating would leave a
 * window in which the servers see the path gone and the watchdog recreates it.
 */
function renameOver(spare: string, file: string): void {
  try {
    fs.renameSync(spare, file);
  } catch (err) {
    fs.rmSync(spare, { force: true });
    throw err;
  }
}
