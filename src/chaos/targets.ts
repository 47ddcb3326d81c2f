import { setTimeout as sleep } from 'node:timers/promises';
import { adminRequest } from '../client/admin-client.js';
import { OspsError } from '../errors.js';
import type { InstanceStatus } from '../protocol/admin.js';
import { readLock } from '../runtime/lock.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { readState } from '../watchdog/state-file.js';

export type TargetRole = 'primary' | 'secondary' | 'watchdog' | 'launcher';

/** How long a live launcher may take to bring back a watchdog that was killed (its backoff included). */
const WATCHDOG_GAP_MS = 8000;

/**
 * The live status of an instance, or a clear error when it is not running. While the
 * launcher lives, a silent admin socket is a watchdog between generations (killed, and
 * being restarted with backoff): ask again until it answers or the gap is over.
 */
export async function liveStatus(paths: RuntimePaths): Promise<InstanceStatus> {
  const deadline = Date.now() + WATCHDOG_GAP_MS;
  for (;;) {
    const reply = await adminRequest(paths, { op: 'status' });
    if (reply?.ok && typeof reply.result === 'object') return reply.result;
    if (Date.now() > deadline || !readLock(paths.lockFile)?.live) {
      throw new OspsError('NOT_RUNNING', `instance '${paths.name}' is not running`);
    }
    await sleep(100);
  }
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
