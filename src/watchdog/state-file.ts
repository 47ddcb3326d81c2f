import fs from 'node:fs';
import type { Role } from '../protocol/control.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import type { FailoverRecord, Phase } from './machine.js';

export type { Phase };

/** One server as recorded for a successor watchdog or a `stop` without a launcher. */
export interface RecordedChild {
  role: Role;
  pid: number;
  token: string;
  startTime: number | null;
}

/**
 * The watchdog's knowledge of the tree, written atomically on every change: who serves,
 * with which epoch, and how far a failover got, so a successor can finish or redo it.
 */
export interface WatchdogState {
  version: 1;
  name: string;
  endpoint: string;
  launcherPid: number | null;
  watchdogPid: number;
  watchdogStartTime: number | null;
  epoch: number;
  /** Readers ignore it; `adopting` was added later without a version bump (nothing branches on it). */
  phase: Phase;
  /** Set while a failover is in progress: the step reached and the fenced pid. */
  failover: FailoverRecord | null;
  children: RecordedChild[];
  /** Servers restarted per role since the tree started, carried across watchdog restarts (absent in older files). */
  restarts?: Record<Role, number>;
  updatedAt: string;
}

export function writeState(file: string, state: WatchdogState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readState(file: string): WatchdogState | null {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as WatchdogState;
    return s.version === 1 ? s : null;
  } catch {
    return null;
  }
}

/** The live watchdog recorded in the runtime dir, if any (a `start` takes it over when its launcher died). */
export function liveRecordedWatchdog(paths: RuntimePaths): number | null {
  const state = readState(paths.stateFile);
  if (!state || state.watchdogStartTime === null) return null;
  return isSameProcess(state.watchdogPid, state.watchdogStartTime) ? state.watchdogPid : null;
}
