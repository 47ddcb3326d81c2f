// The chaos run's checker (Jepsen-style, simplified by construction): every key has a single
// writer (worker w writes only `w<w>:…`), each worker runs one operation at a time, so the
// history of one key is a sequence, and what a read may return follows from it exactly.
// Shared keys (`s:…`, written, deleted and read by every worker) are checked for
// linearizability instead (linearize.ts). Pure functions: the run feeds it the workers' op logs and the state read back at the end.

import { checkKey } from './linearize.js';

export type OpKind = 'set' | 'incr' | 'get' | 'del';

/** Keys every worker writes, deletes and reads: checked for linearizability, not by the single-writer rules. */
export const SHARED_PREFIX = 's:';

/** One completed (or abandoned) operation, as a worker logs it. */
export interface OpRecord {
  op: OpKind;
  key: string;
  /** set: the value written. */
  value?: string;
  /** get: the value read (null = absent); incr: the new counter value. */
  result?: string | number | null;
  /** Acknowledged by the server. false = timed out / failed / abandoned: it may or may not have executed. */
  ok: boolean;
  /** Error code of a failed op (TIMEOUT, CLOSED, UNAVAILABLE …). */
  code?: string;
  /** Invocation and completion times (ms since the epoch). */
  t0: number;
  t1: number;
  /** Which worker did it (the run adds it; informational). */
  worker?: number;
}

/** The value of every key read back after the run (null = absent, undefined = could not be read). */
export type FinalState = Record<string, string | null | undefined>;

export interface CheckResult {
  /** Acknowledged writes (set + incr). */
  acknowledged: number;
  /** Writes attempted but not acknowledged (may or may not have executed). */
  unacknowledged: number;
  /** Acknowledged writes missing from the final state (sets with a wrong value, counters below their acks). */
  lost: number;
  /** Increments executed more often than they were attempted (a retried incr executed twice). */
  duplicated: number;
  /** Reads (gets, incr results) that no legal history explains. */
  wrongReads: number;
  /** Keys whose final value could not be read back: nothing can be said about them. */
  unreadable: number;
  /** Shared keys whose history no linearization explains. */
  nonLinearizable: number;
  /** Shared keys whose history was too large to search: not checked, counted. */
  unchecked: number;
  /** Ops that failed with something else than the run's own abort at the end (CLOSED). */
  failedOps: number;
  failedCodes: Record<string, number>;
  /** The first few anomalies, human-readable, for the report's evidence. */
  details: string[];
}

const MAX_DETAILS = 20;


interface KeyHistory {
  sets: OpRecord[];
  incrs: OpRecord[];
  gets: OpRecord[];
}

function byInvocation(a: OpRecord, b: OpRecord): number {
  return a.t0 - b.t0 || a.t1 - b.t1;
}

/** Counter value as stored (a decimal string), or NaN when it is not one. */
function counterValue(v: string | number | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isSafeInteger(n) ? n : NaN;
}

/** Keys every worker touched, for the read-back: each appears once. */
export function keysOf(ops: Iterable<OpRecord>): string[] {
  const keys = new Set<string>();
  for (const o of ops) keys.add(o.key);
  return [...keys].sort();
}

export function checkHistory(ops: readonly OpRecord[], final: FinalState): CheckResult {
  const r: CheckResult = {
    acknowledged: 0,
    unacknowledged: 0,
    lost: 0,
    duplicated: 0,
    wrongReads: 0,
    unreadable: 0,
    nonLinearizable: 0,
    unchecked: 0,
    failedOps: 0,
    failedCodes: {},
    details: [],
  };
  const note = (s: string): void => {
    if (r.details.length < MAX_DETAILS) r.details.push(s);
  };

  const keys = new Map<string, KeyHistory>();
  const shared = new Map<string, OpRecord[]>();
  for (const o of ops) {
    if (o.key.startsWith(SHARED_PREFIX)) {
      const list = shared.get(o.key);
      if (list) list.push(o);
      else shared.set(o.key, [o]);
    }
    let h = keys.get(o.key);
    if (!h) keys.set(o.key, (h = { sets: [], incrs: [], gets: [] }));
    if (!o.key.startsWith(SHARED_PREFIX)) (o.op === 'set' ? h.sets : o.op === 'incr' ? h.incrs : h.gets).push(o);
    if (o.op !== 'get') {
      if (o.ok) r.acknowledged++;
      else r.unacknowledged++;
    }
    if (!o.ok && o.code !== 'CLOSED') {
      r.failedOps++;
      const c = o.code ?? 'ERROR';
      r.failedCodes[c] = (r.failedCodes[c] ?? 0) + 1;
    }
  }

  for (const [key, ops] of shared) {
    const v = checkKey(ops, final[key]);
    if (v.ok === false) {
      r.nonLinearizable++;
      note(`not linearizable: ${key}: ${v.why}`);
    } else if (v.ok === null) {
      r.unchecked++;
      note(`unchecked: ${key}: ${v.why}`);
    }
  }

  for (const [key, h] of keys) {
    if (key.startsWith(SHARED_PREFIX)) continue;
    h.sets.sort(byInvocation);
    h.incrs.sort(byInvocation);
    h.gets.sort(byInvocation);
    const finalValue = final[key];
    const readable = key in final && finalValue !== undefined;
    if (!readable && (h.sets.some((s) => s.ok) || h.incrs.some((i) => i.ok))) r.unreadable++;

    // --- registers (set/get) ----------------------------------------------------
    if (h.sets.length > 0) {
      const written = new Set(h.sets.map((s) => s.value));
      const ackedSets = h.sets.filter((s) => s.ok);
      const lastAcked = ackedSets[ackedSets.length - 1];
      if (readable && lastAcked) {
        // The last acknowledged value, or one written by a later (unacknowledged) set that may have applied.
        const allowed = new Set([lastAcked.value, ...h.sets.filter((s) => !s.ok && s.t0 >= lastAcked.t0).map((s) => s.value)]);
        if (!allowed.has(finalValue ?? undefined)) {
          r.lost++;
          note(`lost: ${key} = ${JSON.stringify(finalValue)} after the run, but set ${JSON.stringify(lastAcked.value)} was acknowledged at ${lastAcked.t1}`);
        }
      }
      for (const g of h.gets) {
        if (!g.ok) continue;
        const got = g.result === undefined ? null : g.result;
        // The writes a read must see: acknowledged before it started. The newest of them, or anything invoked later.
        const before = ackedSets.filter((s) => s.t1 < g.t0);
        const floor = before[before.length - 1];
        const allowed = new Set<string | null>();
        if (floor) allowed.add(floor.value ?? null);
        else allowed.add(null);
        // `<=`: a set invoked in the same clock tick as the read ended may precede it.
        for (const s of h.sets) if (s.t0 <= g.t1 && (!floor || s.t0 >= floor.t0)) allowed.add(s.value ?? null);
        if (!allowed.has(typeof got === 'number' ? String(got) : got)) {
          r.wrongReads++;
          const why = got !== null && !written.has(String(got)) ? 'a value never written' : floor ? `not the acknowledged ${JSON.stringify(floor.value)}` : 'not a value written before the read ended';
          note(`wrong read: get ${key} at ${g.t0}..${g.t1} returned ${JSON.stringify(got)}: ${why}`);
        }
      }
    }

    if (h.sets.length === 0 && h.incrs.length === 0) {
      for (const g of h.gets) {
        if (g.ok && g.result !== null && g.result !== undefined) {
          r.wrongReads++;
          note(`wrong read: get ${key} at ${g.t0}..${g.t1} returned ${JSON.stringify(g.result)}: the key was never written`);
        }
      }
    }

    // --- counters (incr) --------------------------------------------------------
    if (h.incrs.length > 0) {
      const acked = h.incrs.filter((i) => i.ok).length;
      const attempted = h.incrs.length;
      // Each incr (by 1) returns the new value. One writer per counter: an acknowledged incr returns
      // the previous acknowledged result plus one, plus one per unacknowledged attempt in between
      // that may have applied. Checked step by step, so one anomaly is counted once, not again by
      // every later incr.
      let last = 0;
      let maybe = 0;
      for (const i of h.incrs) {
        if (!i.ok) {
          maybe++;
          continue;
        }
        const v = counterValue(i.result);
        if (!(v >= last + 1 && v <= last + 1 + maybe)) {
          r.wrongReads++;
          const what = v > last + 1 + maybe ? 'executed more often than attempted' : 'an acknowledged incr vanished';
          note(`wrong read: incr ${key} at ${i.t0}..${i.t1} returned ${JSON.stringify(i.result)}, expected ${last + 1}${maybe ? `..${last + 1 + maybe}` : ''} after the previous acknowledged result ${last}: ${what}`);
        }
        if (!Number.isNaN(v)) last = v;
        maybe = 0;
      }
      if (readable) {
        const v = counterValue(finalValue);
        if (Number.isNaN(v)) {
          r.lost += acked;
          note(`lost: counter ${key} reads back ${JSON.stringify(finalValue)}, not a number (${acked} acknowledged incrs)`);
        } else if (v < last) {
          // Against the last acknowledged result, not only the count: a lost incr followed by a duplicate hides from a count.
          r.lost += last - v;
          note(`lost: counter ${key} = ${v} after the run, below its last acknowledged result ${last}`);
        } else if (v > last + maybe) {
          r.duplicated += v - last - maybe;
          note(`duplicated: counter ${key} = ${v} after the run, above its last acknowledged result ${last}${maybe ? ` plus ${maybe} unacknowledged` : ''}`);
        } else if (v < acked) {
          r.lost += acked - v;
          note(`lost: counter ${key} = ${v} after the run, below its ${acked} acknowledged incrs`);
        } else if (v > attempted) {
          r.duplicated += v - attempted;
          note(`duplicated: counter ${key} = ${v} after the run, above its ${attempted} attempted incrs (${acked} acknowledged)`);
        }
      }
    }
  }
  return r;
}
