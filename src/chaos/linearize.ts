// Linearizability of one key's history against a register (set / get / del / incr), in the
// style of Knossos and Porcupine: every order of the operations that respects real time is
// explored, sharing equal configurations, bounded: a history with too many operations in
// flight at once, or too many configurations, is given up on, politely, and counted.
import type { OpRecord } from './model.js';

/** Most operations in flight at once (each client has one; unacknowledged writes stay open). */
export const MAX_OPEN = 16;
/** Most configurations kept at once before the key is given up on. */
const MAX_CONFIGS = 100_000;

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

interface Config {
  state: State;
  /** Ops still open (invoked, not completed) already placed, ascending. */
  done: number[];
}

const idOf = (c: Config): string => `${c.state === null ? '\u0000' : `=${c.state}`}|${c.done.join(',')}`;

/** Every configuration reachable by placing open ops not yet placed, in any order; null past the bound. */
function closure(configs: Map<string, Config>, open: ReadonlyMap<number, Op>): Map<string, Config> | null {
  const out = new Map(configs);
  const todo = [...configs.values()];
  while (todo.length > 0) {
    const c = todo.pop() as Config;
    for (const [i, o] of open) {
      if (c.done.includes(i)) continue;
      const state = step(c.state, o);
      if (state === undefined) continue;
      const next: Config = { state, done: [...c.done, i].sort((a, b) => a - b) };
      const id = idOf(next);
      if (out.has(id)) continue;
      if (out.size >= MAX_CONFIGS) return null;
      out.set(id, next);
      todo.push(next);
    }
  }
  return out;
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
    // An unacknowledged write may take effect at any time after it was sent, or never.
    list.push({ rec: r, t0: r.t0, t1: r.ok ? r.t1 : Infinity, required: r.ok });
  }
  if (final !== undefined) {
    const at = Math.max(0, ...list.map((o) => (o.required ? o.t1 : o.t0))) + 1;
    list.push({ rec: { op: 'get', key: '', result: final, ok: true, t0: at, t1: at + 1 }, t0: at, t1: at + 1, required: true });
  }
  // Just-in-time linearization (the linear checker of Knossos): walk invocations and
  // completions in time order, keeping every configuration (state, which open ops are already
  // placed) the history so far allows; an op must be placed by the time it completes.
  const events: Array<{ at: number; invoke: boolean; i: number }> = [];
  list.forEach((o, i) => {
    events.push({ at: o.t0, invoke: true, i });
    if (o.required) events.push({ at: o.t1, invoke: false, i });
  });
  // At equal times invocations first: touching intervals count as concurrent.
  events.sort((a, b) => a.at - b.at || (a.invoke === b.invoke ? 0 : a.invoke ? -1 : 1));
  const open = new Map<number, Op>();
  let configs = new Map<string, Config>([[idOf({ state: null, done: [] }), { state: null, done: [] }]]);
  for (const e of events) {
    const o = list[e.i] as Op;
    if (e.invoke) {
      open.set(e.i, o);
      if (open.size > MAX_OPEN) return { ok: null, why: `${open.size} operations in flight at once` };
      continue;
    }
    const all = closure(configs, open);
    if (all === null) return { ok: null, why: `more than ${MAX_CONFIGS} configurations at ${o.t1.toFixed(1)}` };
    const kept = new Map<string, Config>();
    for (const c of all.values()) {
      if (!c.done.includes(e.i)) continue;
      const next: Config = { state: c.state, done: c.done.filter((d) => d !== e.i) };
      kept.set(idOf(next), next);
    }
    open.delete(e.i);
    if (kept.size === 0) {
      const shown = [o, ...open.values()].slice(0, 6).map((x) => `${x.rec.op}${x.rec.value !== undefined ? ` ${x.rec.value}` : ''}${x.rec.result !== undefined ? `→${JSON.stringify(x.rec.result)}` : ''}${x.required ? '' : '?'}`);
      const states = [...new Set([...configs.values()].map((c) => JSON.stringify(c.state)))].slice(0, 3);
      return { ok: false, why: `${shown[0]} at ${o.t0.toFixed(1)}..${o.t1.toFixed(1)} fits no order (in flight: ${shown.slice(1).join(', ') || 'nothing'}; possible values before: ${states.join(' ')})` };
    }
    configs = kept;
  }
  return { ok: true };
}
