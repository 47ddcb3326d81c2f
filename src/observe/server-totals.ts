// A server reports totals since it started; the endpoint keeps totals since it started.
// The difference is taken per process, so a new primary after a failover, counting from
// zero, adds to the totals instead of resetting them.
import type { Role } from '../protocol/control.js';

type Totals = Record<string, number>;

export class ServerTotals {
  private readonly last = new Map<Role, { pid: number; totals: Totals }>();

  /** The increments since the previous report of the same process (all of it for a new one). */
  deltas(role: Role, pid: number, totals: Totals): Array<[string, number]> {
    const prev = this.last.get(role);
    const before = prev && prev.pid === pid ? prev.totals : {};
    const out: Array<[string, number]> = [];
    for (const [k, v] of Object.entries(totals)) {
      if (!Number.isFinite(v) || v < 0) continue;
      const was = before[k] ?? 0;
      // A total that went down means the process restarted its count: all of it is new.
      const d = v >= was ? v - was : v;
      if (d > 0) out.push([k, d]);
    }
    this.last.set(role, { pid, totals: { ...totals } });
    return out;
  }
}
