// Linearizability of one key's history against a register (set / get / del / incr), in the
// style of Knossos and Porcupine (Wing & Gong search with memoised states), bounded: the
// history is cut at quiescent points (no operation in flight), each segment is searched from
// the set of states the previous one may have left, and a segment too large to search is
// given up on, politely, and counted.
import type { OpRecord } from './model.js';

/** An unacknowledged write may still take effect this long after its client gave up (deadline and queue). */
export const UNACKED_GRACE_MS = 30_000;
/** Largest segment searched; above it the key is counted as too large to check. */
export const MAX_SEGMENT_OPS = 24;
/** Search steps per segment before giving up. */
const MAX_STEPS = 200_000;

type State = string | null;

interface Op {
  rec: OpRecord;
  t0: number;
  t1: number;
  /** Acknowledged: it happened, with this result. Otherwise it may have happened or not. */
  required: boolean;
}

export type KeyVerdict = { ok: true } | { ok: false; why: string } | { ok: null; why: string };

/** The register's step: the new state and the result, or null if `o` could not return what it did. */
function step(state: State, o: Op): State | undefined {
  const r = o.rec;
  switch (r.op) {
    case 'set':
      return r.value ?? '';
    case 'del':
      if (o.required && Number(r.result) !== (state === null ? 0 : 1)) return undefined;
      return null;
    case 'incr': {
      const base = state === null ? 0 : /^-?\d{1,16}$/.test(state) ? Number(state) : NaN;
      if (Number.isNaN(base)) return o.required ? undefined : state;
      if (o.required && Number(r.result) !== base + 1) return undefined;
      return String(base + 1);
    }
    case 'get': {
      const got = r.result === undefined ? null : r.result === null ? null : String(r.result);
      return got === state ? state : undefined;
    }
  }
  return undefined;
}

/** Splits time-ordered ops where nothing is in flight. */
function segments(ops: Op[]): Op[][] {
  const out: Op[][] = [];
  let cur: Op[] = [];
  let end = -Infinity;
  for (const o of ops) {
    if (cur.length > 0 && o.t0 > end) {
      out.push(cur);
      cur = [];
    }
    cur.push(o);
    end = Math.max(end, o.t1);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Every state a segment may end in, from any of `starts`; null when the search was too large. */
function search(seg: Op[], starts: Set<State>): Set<State> | null {
  const n = seg.length;
  const full = (1 << n) - 1;
  let requiredMask = 0;
  seg.forEach((o, i) => {
    if (o.required) requiredMask |= 1 << i;
  });
  const ends = new Set<State>();
  const seen = new Set<string>();
  let steps = 0;
  const stack: Array<[number, State]> = [...starts].map((s) => [0, s] as [number, State]);
  while (stack.length > 0) {
    const [mask, state] = stack.pop() as [number, State];
    const id = `${mask}:${state === null ? '\u0000' : state}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (++steps > MAX_STEPS) return null;
    if ((mask & requiredMask) === requiredMask) ends.add(state);
    if (mask === full) continue;
    // The earliest completion among the ops not yet placed: nothing invoked after it can go first.
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!(mask & (1 << i)) && (seg[i] as Op).required) horizon = Math.min(horizon, (seg[i] as Op).t1);
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) continue;
      const o = seg[i] as Op;
      if (o.t0 > horizon) continue;
      const next = step(state, o);
      if (next !== undefined) stack.push([mask | (1 << i), next]);
    }
  }
  return ends;
}

/**
 * Checks one key's history, `final` being what was read back once everything had stopped
 * (undefined: not read). Failed reads are ignored; failed writes may or may not have happened.
 */
export function checkKey(ops: readonly OpRecord[], final: string | null | undefined): KeyVerdict {
  const list: Op[] = [];
  for (const r of ops) {
    if (!r.ok && r.op === 'get') continue;
    // An error the service returned (e.g. WRONG_TYPE) is an answer, but not one this register gives: keep it out.
    if (!r.ok && r.code && !['TIMEOUT', 'UNAVAILABLE', 'CLOSED', 'INTERNAL', 'ERROR', 'DEADLINE'].includes(r.code)) continue;
    list.push({ rec: r, t0: r.t0, t1: r.ok ? r.t1 : r.t1 + UNACKED_GRACE_MS, required: r.ok });
  }
  if (final !== undefined) {
    const at = Math.max(0, ...list.map((o) => o.t1)) + 1;
    list.push({ rec: { op: 'get', key: '', result: final, ok: true, t0: at, t1: at + 1 }, t0: at, t1: at + 1, required: true });
  }
  list.sort((a, b) => a.t0 - b.t0 || a.t1 - b.t1);
  let states = new Set<State>([null]);
  for (const seg of segments(list)) {
    if (seg.length > MAX_SEGMENT_OPS) return { ok: null, why: `${seg.length} concurrent operations in one stretch` };
    const ends = search(seg, states);
    if (ends === null) return { ok: null, why: `search of ${seg.length} operations too large` };
    if (ends.size === 0) {
      const first = seg[0] as Op;
      const shown = seg.slice(0, 6).map((o) => `${o.rec.op}${o.rec.value !== undefined ? ` ${o.rec.value}` : ''}${o.rec.result !== undefined ? `→${JSON.stringify(o.rec.result)}` : ''}${o.required ? '' : '?'}`);
      return { ok: false, why: `no order of ${seg.length} operations from ${first.t0.toFixed(1)} explains them (${shown.join(', ')}${seg.length > 6 ? ', …' : ''}) from states ${[...states].slice(0, 3).map((s) => JSON.stringify(s)).join(' ')}` };
    }
    states = ends;
  }
  return { ok: true };
}
