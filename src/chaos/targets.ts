import { adminRequest } from '../client/admin-client.js';
import { OspsError } from '../errors.js';
import type { InstanceStatus } from '../protocol/admin.js';
import { readLock } from '../runtime/lock.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { readState } from '../watchdog/state-file.js';

export type TargetRole = 'primary' | 'secondary' | 'watchdog' | 'launcher';

/** The live status of an instance, or a clear error when it is not running. */
export async function liveStatus(paths: RuntimePaths): Promise<InstanceStatus> {
  const reply = await adminRequest(paths, { op: 'status' });
  if (!reply?.ok || typeof reply.result !== 'object') {
    throw new OspsError('NOT_RUNNING', `instance '${paths.name}' is not running`);
  }
  return reply.result;
}

/** The pid of a role, checked against the runtime dir's records (never a guess by name). */
export async function findPid(paths: RuntimePaths, role: TargetRole): Promise<number> {
  if (role === 'launcher') {
    const lock = readLock(paths.lockFile);
    if (!lock?.live) throw new OspsError('NOT_RUNNING', `instance '${paths.name}' has no live launcher`);
    return lock.pid;
  }
  if (role === 'watchdog') {
    const state = readState(paths.stateFile);
    if (!state || state.watchdogStartTime === null || !isSameProcess(state.watchdogPid, state.watchdogStartTime)) {
      throw new OspsError('NOT_RUNNING', `instance '${paths.name}' has no live watchdog`);
    }
    return state.watchdogPid;
  }
  const status = await liveStatus(paths);
  const p = status.processes.find((x) => x.role === role && x.state === 'ready');
  if (!p) throw new OspsError('NO_TARGET', `instance '${paths.name}' has no ready ${role} right now`);
  return p.pid;
}
