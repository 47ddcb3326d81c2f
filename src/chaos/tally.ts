// What a chaos run has found so far: the per-fault results and the counts the invariants are
// judged on, and the verdict they amount to at the end.
import type { CheckResult } from './model.js';
import type { FaultResult } from './report.js';

export class Tally {
  readonly faults: FaultResult[] = [];
  /** Broken invariants found along the way (injection, workers, stop); the verdict adds the counted ones. */
  readonly violations: string[] = [];
  /** Concrete anomalies behind the violations. */
  readonly evidence: string[] = [];
  unserved = 0;
  /** Injections that found nothing to damage (no unread ring entry): they prove nothing. */
  skipped = 0;
  undetected = 0;
  needlessFailovers = 0;
  needlessRestarts = 0;
  missedFailovers = 0;
  failoversObserved = 0;

  /** Counts the failovers seen while one fault was recovered; returns how many there were. */
  countFailovers(seen: number, expected: boolean, recovered: boolean, what: string): number {
    this.failoversObserved += seen;
    const allowed = expected ? 1 : 0;
    if (seen > allowed) {
      this.needlessFailovers += seen - allowed;
      this.evidence.push(`needless failover: ${what}`);
    }
    if (expected && seen === 0 && recovered) {
      this.missedFailovers++;
      this.evidence.push(`missed failover: ${what}`);
    }
    return seen;
  }

  /** `total` failovers in the whole run: those outside every fault's window were needless. */
  countStrayFailovers(total: number): void {
    if (total <= this.failoversObserved) return;
    this.needlessFailovers += total - this.failoversObserved;
    this.failoversObserved = total;
  }

  /** The invariants so far, in a few words, for a progress line. */
  findings(): string {
    const bad = this.needlessFailovers + this.needlessRestarts + this.missedFailovers + this.unserved + this.undetected + this.violations.length;
    if (bad === 0) return 'invariants held so far';
    const parts: Array<[string, number]> = [
      ['needless failovers', this.needlessFailovers],
      ['needless restarts', this.needlessRestarts],
      ['missed failovers', this.missedFailovers],
      ['unserved', this.unserved],
      ['undetected', this.undetected],
      ['other violations', this.violations.length],
    ];
    return parts.filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
  }

  /** The violations the counts and the history amount to, in the report's order. */
  verdict(history: CheckResult, planned: number, leaked: string[], orphans: number[], budgetMs: number): string[] {
    const v: string[] = [];
    if (history.lost > 0) v.push(`lost: ${history.lost} acknowledged writes`);
    if (history.duplicated > 0) v.push(`duplicated: ${history.duplicated} increments executed more often than attempted`);
    if (history.wrongReads > 0) v.push(`wrongReads: ${history.wrongReads} reads no history explains`);
    if (history.nonLinearizable > 0) v.push(`nonLinearizable: ${history.nonLinearizable} shared keys whose history no order of operations explains`);
    if (history.unreadable > 0) v.push(`unreadable: ${history.unreadable} keys could not be read back after the run`);
    if (history.failedOps > 0) {
      v.push(`failedRequests: ${history.failedOps} client requests failed (${Object.entries(history.failedCodes).map(([c, n]) => `${c} ${n}`).join(', ')})`);
    }
    if (this.needlessFailovers > 0) v.push(`needlessFailovers: ${this.needlessFailovers} failovers no fault called for`);
    if (this.needlessRestarts > 0) v.push(`needlessRestarts: ${this.needlessRestarts} servers replaced that no fault called for`);
    if (this.missedFailovers > 0) v.push(`missedFailovers: ${this.missedFailovers} faults that call for a failover recovered without one`);
    if (this.undetected > 0) v.push(`undetected: ${this.undetected} faults that should have been detected passed unnoticed`);
    if (this.unserved > 0) v.push(`unserved: ${this.unserved} faults not recovered within ${budgetMs / 1000} s`);
    if (this.faults.length < planned) v.push(`incomplete: ${this.faults.length} of ${planned} faults injected`);
    if (history.acknowledged === 0) v.push('acknowledged: no write was acknowledged during the run');
    if (leaked.length > 0) v.push(`leaked: ${leaked.join('; ')}`);
    if (orphans.length > 0) v.push(`orphans: pids ${orphans.join(', ')} still alive after the stop`);
    return v;
  }
}
