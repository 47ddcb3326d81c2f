// Who holds which role, derived from the watchdog's events alone: one reading of the stream
// that the tests, the chaos run and the benchmarks share, adoptions and failovers included.
import type { WatchdogEvent } from '../protocol/events.js';

export type ServerRole = 'primary' | 'secondary';

// Events that put a pid in a role. `adopted` carries the role the server itself reported,
// so a secondary promoted just before its watchdog died is adopted as the primary.
const TAKES_ROLE = new Set(['spawned', 'respawned', 'adopted', 'promoted']);
// Events after which a pid holds no role any more.
const LEAVES_ROLE = new Set(['fenced', 'exited', 'stopped']);

export class RoleTracker {
  primary = 0;
  secondary = 0;
  /** The watchdog that announced itself last (`starting`). */
  watchdog = 0;
  /** Every pid the stream announced (watchdogs and servers), in order of first sight. */
  readonly announced = new Set<number>();

  apply(e: WatchdogEvent): void {
    const pid = typeof e.pid === 'number' ? e.pid : Number(e.pid);
    if (!(pid > 0)) return;
    if (e.event === 'starting') {
      this.watchdog = pid;
      this.announced.add(pid);
      return;
    }
    const role = e.role;
    if (TAKES_ROLE.has(e.event) && (role === 'primary' || role === 'secondary')) {
      this.announced.add(pid);
      // One pid, one role: a promoted secondary is no longer the standby.
      if (role === 'primary' && this.secondary === pid) this.secondary = 0;
      if (role === 'secondary' && this.primary === pid) this.primary = 0;
      this[role] = pid;
      return;
    }
    if (LEAVES_ROLE.has(e.event)) {
      if (this.primary === pid) this.primary = 0;
      if (this.secondary === pid) this.secondary = 0;
    }
  }

  /** The pid in `role`, or 0 when nobody holds it right now. */
  holder(role: ServerRole): number {
    return role === 'primary' ? this.primary : this.secondary;
  }
}
