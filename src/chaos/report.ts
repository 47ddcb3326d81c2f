// The report of a chaos run: its fields, the per-kind statistics, the violations the counts
// amount to, and how it is printed (a table and one line per invariant, or one JSON object).
import { percentile } from '../client/percentiles.js';
import type { CopyDigests } from './copies.js';
import type { FaultName, FaultOptions } from './faults.js';

export interface FaultResult {
  fault: FaultName;
  opts: FaultOptions;
  /** fault plus its options, e.g. `pause --role secondary --for 233`: the key of `byKind`. */
  kind: string;
  /** The injection found nothing to damage: run, but not a fault injected. */
  skipped?: boolean;
  role: string;
  pid: number;
  detail: string;
  /** First sign the watchdog noticed (exit, missed ping, ceiling, lost link, adoption, standby absent), ms after injection. */
  detectionMs: number | null;
  /** Served again with a standby in sync, ms after injection; null = not within the recovery budget. */
  recoveryMs: number | null;
  /** A promotion (or a fresh primary) happened while this fault was being recovered. */
  failover: boolean;
  expectedFailover: boolean;
  /** The watchdog's events from the injection to the recovery, compacted: `exited(secondary 1234)` … */
  events: string[];
}

export interface KindStats {
  count: number;
  detectionP50: number | null;
  detectionMax: number | null;
  recoveryP50: number | null;
  recoveryMax: number | null;
}

export interface ChaosReport {
  seed: number;
  faultsRequested: number;
  clients: number;
  alarmMs: number;
  pingIntervalMs: number;
  durationMs: number;
  faults: FaultResult[];
  /** Injections that found nothing to damage: run, but not counted as faults survived. */
  skipped: number;
  /** Digests of every copy over the run's keys, and the keys a copy disagrees on. */
  copies: CopyDigests;
  /** Shared keys whose history no linearization explains, and those too large to check. */
  nonLinearizable: number;
  uncheckedKeys: number;
  byKind: Record<string, KindStats>;
  /** Acknowledged writes in the history. */
  acknowledged: number;
  unacknowledged: number;
  operations: number;
  lost: number;
  duplicated: number;
  wrongReads: number;
  /** Client requests that failed with the service still unavailable at their 20 s deadline. */
  failedRequests: number;
  needlessFailovers: number;
  /** Servers started beyond what the faults called for (a healthy server replaced). */
  needlessRestarts: number;
  failovers: { observed: number; expected: number; missed: number };
  /** Faults not recovered from within the recovery budget. */
  unserved: number;
  /** Faults that promise a visible reaction (a replacement, a failover) but got none. */
  undetected: number;
  leaked: string[];
  orphans: number[];
  ok: boolean;
  violations: string[];
  /** Concrete anomalies behind the violations (first few). */
  evidence: string[];
  /** Where the run's files were kept (keepTmp), else null. */
  tmpDir: string | null;
}

function statsOf(xs: Array<number | null>): { p50: number | null; max: number | null } {
  const v = xs.filter((x): x is number => x !== null);
  if (v.length === 0) return { p50: null, max: null };
  return { p50: percentile(v, 50), max: Math.max(...v) };
}

/** Detection and recovery times per fault kind, kinds in alphabetical order. */
export function statsByKind(faults: FaultResult[]): Record<string, KindStats> {
  const byKind: Record<string, KindStats> = {};
  for (const kind of [...new Set(faults.map((f) => f.kind))].sort()) {
    const of = faults.filter((f) => f.kind === kind);
    const d = statsOf(of.map((f) => f.detectionMs));
    const r = statsOf(of.map((f) => f.recoveryMs));
    byKind[kind] = { count: of.length, detectionP50: d.p50, detectionMax: d.max, recoveryP50: r.p50, recoveryMax: r.max };
  }
  return byKind;
}

// --- printing ---------------------------------------------------------------------------

function ms(v: number | null): string {
  return v === null ? '-' : `${Math.round(v)} ms`;
}

/** JSON: one object on stdout and nothing else. Otherwise a table per fault kind and one line per invariant. */
export function printReport(report: ChaosReport, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (json) {
    out.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines: string[] = [];
  lines.push(
    `chaos run: seed ${report.seed}, ${report.faults.length}/${report.faultsRequested} faults${report.skipped ? ` (${report.skipped} skipped: nothing to damage)` : ''}, ${report.clients} clients, ` +
      `alarm ${report.alarmMs} ms, ping ${report.pingIntervalMs} ms, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  lines.push('');
  const kinds = Object.keys(report.byKind);
  const w = Math.max(10, ...kinds.map((k) => k.length));
  const col = (s: string, n: number): string => s.padStart(n);
  lines.push(`${'fault'.padEnd(w)}  ${col('count', 5)}  ${col('detect p50', 10)}  ${col('detect max', 10)}  ${col('recover p50', 11)}  ${col('recover max', 11)}`);
  for (const k of kinds) {
    const s = report.byKind[k] as KindStats;
    lines.push(`${k.padEnd(w)}  ${col(String(s.count), 5)}  ${col(ms(s.detectionP50), 10)}  ${col(ms(s.detectionMax), 10)}  ${col(ms(s.recoveryP50), 11)}  ${col(ms(s.recoveryMax), 11)}`);
  }
  lines.push('');
  const inv: Array<[string, string | number]> = [
    ['skipped injections', report.skipped],
    ['operations', report.operations],
    ['acknowledged writes', report.acknowledged],
    ['unacknowledged writes', report.unacknowledged],
    ['lost', report.lost],
    ['duplicated', report.duplicated],
    ['wrong reads', report.wrongReads],
    ['non-linearizable keys', report.nonLinearizable],
    ['keys too large to check', report.uncheckedKeys],
    ['copies (primary/standby/journal/restarted)', [report.copies.primary, report.copies.standby, report.copies.journal, report.copies.restarted].map((d) => d?.slice(0, 8) ?? '-').join(' ')],
    ['copy mismatches', report.copies.mismatches],
    ['failed requests', report.failedRequests],
    ['failovers (observed/expected)', `${report.failovers.observed}/${report.failovers.expected}`],
    ['needless failovers', report.needlessFailovers],
    ['needless restarts', report.needlessRestarts],
    ['unserved faults', report.unserved],
    ['undetected faults', report.undetected],
    ['leaked', report.leaked.length],
    ['orphans', report.orphans.length],
  ];
  const iw = Math.max(...inv.map(([k]) => k.length));
  for (const [k, v] of inv) lines.push(`${k.padEnd(iw)}  ${v}`);
  lines.push('');
  if (report.ok) {
    lines.push('OK: every invariant held');
  } else {
    lines.push('FAILED:');
    for (const v of report.violations) lines.push(`  ${v}`);
    if (report.evidence.length > 0) {
      lines.push('evidence:');
      for (const e of report.evidence) lines.push(`  ${e}`);
    }
  }
  if (report.tmpDir) lines.push(`files kept in ${report.tmpDir}`);
  out.write(`${lines.join('\n')}\n`);
}
