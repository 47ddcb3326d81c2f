import { OspsError } from '../errors.js';
import { ShmRing } from '../ipc/shm-ring.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { scanInstance, type FoundProcess } from './instance-scan.js';
import { readState, type RecordedChild, type WatchdogState } from './state-file.js';

export interface AdoptionPlan {
  ring: ShmRing;
  children: RecordedChild[];
  /** The failover a dead predecessor had under way, if any. */
  failover: WatchdogState['failover'];
  /** The predecessor's restart counts, so `status` and the metrics keep counting. */
  restarts: WatchdogState['restarts'] | null;
}

/** How a watchdog starts: adopt live servers, or start fresh after fencing the unadoptable ones. */
export type StartPlan = { kind: 'adopt'; plan: AdoptionPlan } | { kind: 'fresh'; fence: FoundProcess[] };

/**
 * What a new watchdog finds of a predecessor. Live servers come from two places: the state
 * file (same pid *and* start time, so a reused pid is never adopted) and /proc (processes
 * spawned with our name and runtime dir), so a state file written by a watchdog that died
 * at any instant never hides a live server. With the shm ring they share, they are adopted.
 * A start that is not an adoption proves first that nothing of the instance lives: another
 * live watchdog means the instance is running (refused); servers without a ring are fenced
 * by the caller; another osps server mapping our shm object or holding our port is refused,
 * never reclaimed from under it.
 */
export function planStart(paths: RuntimePaths, endpoint: string, launcherPid: number | null): StartPlan {
  const state = readState(paths.stateFile);
  if (state && state.watchdogPid !== process.pid && state.watchdogStartTime !== null && isSameProcess(state.watchdogPid, state.watchdogStartTime)) {
    throw new OspsError('ALREADY_RUNNING', `already running (pid ${state.watchdogPid})`, { pid: state.watchdogPid });
  }
  const found = scanInstance(paths, endpoint, [process.pid, ...(launcherPid ? [launcherPid] : [])]);
  const watchdog = found.find((p) => p.kind === 'watchdog');
  if (watchdog) throw new OspsError('ALREADY_RUNNING', `already running (watchdog pid ${watchdog.pid})`, { pid: watchdog.pid });
  const children: RecordedChild[] = (state?.children ?? []).filter((c) => c.startTime !== null && isSameProcess(c.pid, c.startTime));
  for (const p of found) {
    if (p.kind === 'server' && p.role && p.token && !children.some((c) => c.pid === p.pid)) {
      children.push({ role: p.role, pid: p.pid, token: p.token, startTime: p.startTime });
    }
  }
  if (children.length > 0 && ShmRing.exists(paths.shmName)) {
    return { kind: 'adopt', plan: { ring: ShmRing.attach(paths.shmName), children, failover: state?.failover ?? null, restarts: state?.restarts ?? null } };
  }
  // Not an adoption: what would be reclaimed must be held by nothing that could serve.
  const servers = new Set(children.map((c) => c.pid));
  const strangers = found.filter((p) => p.kind === 'other' && !servers.has(p.pid));
  if (strangers.length > 0) {
    const list = strangers.map((p) => `pid ${p.pid} ${p.why}`).join('; ');
    throw new OspsError('INSTANCE_BUSY', `refusing to start: a process outside this instance's tree holds its resources (${list})`);
  }
  if (children.length === 0) return { kind: 'fresh', fence: [] };
  return { kind: 'fresh', fence: found.filter((p) => servers.has(p.pid)).concat(children.filter((c) => !found.some((p) => p.pid === c.pid)).map((c) => ({ pid: c.pid, startTime: c.startTime, kind: 'server' as const, role: c.role, token: c.token, why: `${c.role} of this instance` }))) };
}
