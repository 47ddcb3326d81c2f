// Where a named instance serves: its watchdog records the endpoint in the runtime dir's state
// file. A client command that finds nothing alive there says so at once instead of waiting
// out a timeout against an endpoint nobody binds.
import { DEFAULTS } from '../config.js';
import { OspsError } from '../errors.js';
import { readLock } from '../runtime/lock.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { readState } from '../watchdog/state-file.js';

export type EndpointSource = 'option' | 'state' | 'default';

/**
 * `--endpoint` when given (nothing is checked: it may be any server); otherwise the endpoint
 * the instance's watchdog recorded. Throws NOT_RUNNING when neither a live watchdog nor a
 * live launcher of the instance exists.
 */
export function instanceEndpoint(paths: RuntimePaths, explicit: string | undefined): { endpoint: string; source: EndpointSource } {
  if (explicit !== undefined) return { endpoint: explicit, source: 'option' };
  const state = readState(paths.stateFile);
  const watchdogAlive = state !== null && state.watchdogStartTime !== null && isSameProcess(state.watchdogPid, state.watchdogStartTime);
  if (state && watchdogAlive) return { endpoint: state.endpoint, source: 'state' };
  const launcher = readLock(paths.lockFile);
  if (!launcher?.live) {
    throw new OspsError('NOT_RUNNING', `instance '${paths.name}' is not running (nothing alive in ${paths.dir}; pass --endpoint to reach a server directly)`);
  }
  // A launcher between two watchdogs, or one still starting: the last recorded endpoint, if any.
  return { endpoint: state?.endpoint ?? DEFAULTS.endpoint, source: state ? 'state' : 'default' };
}
