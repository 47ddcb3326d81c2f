import type { Role } from '../protocol/control.js';
import { EXIT } from '../protocol/exit-codes.js';

/**
 * A child as data, the OTP way: what to start, when to restart it, what to do when it
 * keeps dying, and how to shut it down. The state machine reads these; nothing else
 * decides a child's policy.
 */
export interface ChildSpec {
  role: Role;
  /** The process: the server entry, told its role in OSPS_ROLE. */
  start: { entry: 'server/main.js'; role: Role };
  /** OTP restart type: both servers are always replaced when they end unasked. */
  restart: 'permanent';
  /**
   * More restarts than the intensity allows: `give-up` stops the whole instance (exit 3);
   * `cool-down` leaves the child out for a growing while and the rest keeps serving.
   */
  onIntensity: 'give-up' | 'cool-down';
  /** Exit codes that no restart can cure (the data on disk is refused): the instance stops at once. */
  giveUpOn: readonly number[];
  /** Shutdown: ask with a `stop` message, SIGKILL after `graceMs` (OTP's shutdown timeout). */
  shutdown: { graceMs: number };
}

/**
 * The pair. The primary is the data plane: if it keeps dying nothing can serve, so the
 * instance gives up. A standby that keeps dying only costs redundancy: the primary keeps
 * serving degraded (it journals with fsync while it has no standby) and the standby is
 * tried again after a cool-down.
 */
export function childSpecs(stopTimeoutMs: number): Record<Role, ChildSpec> {
  // Both children share the stop budget, less a second for the watchdog's own cleanup.
  const graceMs = Math.max(500, stopTimeoutMs - 1000) / 2;
  return {
    primary: { role: 'primary', start: { entry: 'server/main.js', role: 'primary' }, restart: 'permanent', onIntensity: 'give-up', giveUpOn: [EXIT.JOURNAL_CORRUPT], shutdown: { graceMs } },
    secondary: { role: 'secondary', start: { entry: 'server/main.js', role: 'secondary' }, restart: 'permanent', onIntensity: 'cool-down', giveUpOn: [], shutdown: { graceMs } },
  };
}
