import { OspsError } from '../errors.js';
import { ShmRing } from '../ipc/shm-ring.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { readState, type RecordedChild, type WatchdogState } from './state-file.js';

export interface AdoptionPlan {
  ring: ShmRing;
  children: RecordedChild[];
  /** The failover a dead predecessor had under way, if any. */
  failover: WatchdogState['failover'];
}

/**
 * What a new watchdog finds of a predecessor: servers still alive (same pid *and* start
 * time, so a reused pid is never adopted) and the shm ring they share. Null = start fresh.
 * A predecessor watchdog that is itself alive means the instance is running: refuse.
 */
export function planAdoption(paths: RuntimePaths): AdoptionPlan | null {
  const state = readState(paths.stateFile);
  if (!state) return null;
  if (
    state.watchdogPid !== process.pid &&
    state.watchdogStartTime !== null &&
    isSameProcess(state.watchdogPid, state.watchdogStartTime)
  ) {
    throw new OspsError('ALREADY_RUNNING', `already running (pid ${state.watchdogPid})`, { pid: state.watchdogPid });
  }
  const alive = state.children.filter((c) => c.startTime !== null && isSameProcess(c.pid, c.startTime));
  if (alive.length === 0 || !ShmRing.exists(paths.shmName)) return null;
  return { ring: ShmRing.attach(paths.shmName), children: alive, failover: state.failover };
}
