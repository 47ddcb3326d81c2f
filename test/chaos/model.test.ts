import { describe, expect, it } from 'vitest';
import { checkHistory, keysOf, type OpRecord } from '../../dist/chaos/model.js';
import { mulberry32 } from '../../dist/protocol/prng.js';

// A tiny history builder: one op per 10 ms tick, each finishing 5 ms after it starts.
function history() {
  const ops: OpRecord[] = [];
  let t = 1000;
  const at = (): [number, number] => {
    t += 10;
    return [t, t + 5];
  };
  return {
    ops,
    set(key: string, value: string, ok = true, code?: string) {
      const [t0, t1] = at();
      ops.push({ op: 'set', key, value, ok, t0, t1, ...(ok ? {} : { code: code ?? 'TIMEOUT' }) });
    },
    get(key: string, result: string | null) {
      const [t0, t1] = at();
      ops.push({ op: 'get', key, result, ok: true, t0, t1 });
    },
    incr(key: string, result: number | null, ok = true, code?: string) {
      const [t0, t1] = at();
      ops.push(ok ? { op: 'incr', key, result, ok, t0, t1 } : { op: 'incr', key, ok, code: code ?? 'TIMEOUT', t0, t1 });
    },
  };
}

describe('chaos model', () => {
  it('a set and a read of it within one clock tick is explained', () => {
    const ops: OpRecord[] = [
      { op: 'set', key: 'w0:k0', value: 'v0', ok: true, t0: 2000, t1: 2000 },
      { op: 'get', key: 'w0:k0', result: 'v0', ok: true, t0: 2000, t1: 2000 },
    ];
    expect(checkHistory(ops, { 'w0:k0': 'v0' }).wrongReads).toBe(0);
    // …but a value set only after the read ended is not.
    ops[0] = { ...ops[0], t0: 2001, t1: 2001 } as OpRecord;
    expect(checkHistory(ops, { 'w0:k0': 'v0' }).wrongReads).toBe(1);
  });

  it('a clean history has no anomaly', () => {
    const h = history();
    h.set('w0:k0', 'v0');
    h.incr('w0:ctr', 1);
    h.get('w0:k0', 'v0');
    h.set('w0:k1', 'v1');
    h.incr('w0:ctr', 2);
    h.get('w0:k1', 'v1');
    h.set('w1:k0', 'v0');
    const r = checkHistory(h.ops, { 'w0:k0': 'v0', 'w0:k1': 'v1', 'w0:ctr': '2', 'w1:k0': 'v0' });
    expect(r).toMatchObject({ acknowledged: 5, unacknowledged: 0, lost: 0, duplicated: 0, wrongReads: 0, unreadable: 0, failedOps: 0 });
    expect(r.details).toEqual([]);
  });

  it('finds an acknowledged set that did not survive', () => {
    const h = history();
    h.set('w0:k0', 'v0');
    h.set('w0:k1', 'v1');
    const missing = checkHistory(h.ops, { 'w0:k0': 'v0', 'w0:k1': null });
    expect(missing.lost).toBe(1);
    expect(missing.details[0]).toMatch(/lost: w0:k1/);
    const other = checkHistory(h.ops, { 'w0:k0': 'v9', 'w0:k1': 'v1' });
    expect(other.lost).toBe(1);
  });

  it('finds a wrong read: stale after an acknowledged set, or a value never written', () => {
    const h = history();
    h.set('w0:k0', 'v0');
    h.get('w0:k0', null);
    h.get('w0:k0', 'v7');
    const r = checkHistory(h.ops, { 'w0:k0': 'v0' });
    expect(r.wrongReads).toBe(2);
    expect(r.details.join('\n')).toMatch(/never written/);
    expect(r.lost).toBe(0);
  });

  it('a read concurrent with an unacknowledged set may see either value', () => {
    const ops: OpRecord[] = [
      { op: 'set', key: 'w0:k0', value: 'v0', ok: true, t0: 0, t1: 5 },
      // Both reads overlap the set: null or the value are fine.
      { op: 'get', key: 'w0:k0', result: null, ok: true, t0: 1, t1: 3 },
      { op: 'get', key: 'w0:k0', result: 'v0', ok: true, t0: 2, t1: 4 },
    ];
    expect(checkHistory(ops, { 'w0:k0': 'v0' }).wrongReads).toBe(0);
  });

  it('a counter below its last acknowledged result is lost, above it plus the unacknowledged attempts is duplicated', () => {
    const h = history();
    h.incr('w0:ctr', 1);
    h.incr('w0:ctr', 2);
    h.incr('w0:ctr', null, false);
    h.incr('w0:ctr', 4);
    // The last acknowledged incr returned 4: the counter was 4 then, so 3 lost an update even
    // though it is as many as the acknowledged incrs (a lost incr hidden by a count).
    expect(checkHistory(h.ops, { 'w0:ctr': '3' }).lost).toBeGreaterThan(0);
    expect(checkHistory(h.ops, { 'w0:ctr': '4' })).toMatchObject({ lost: 0, duplicated: 0 });
    expect(checkHistory(h.ops, { 'w0:ctr': '1' })).toMatchObject({ lost: 3, duplicated: 0 });
    expect(checkHistory(h.ops, { 'w0:ctr': null })).toMatchObject({ lost: 4, duplicated: 0 });
    expect(checkHistory(h.ops, { 'w0:ctr': '6' })).toMatchObject({ lost: 0, duplicated: 2 });
  });

  it('an incr result no history explains is a wrong read', () => {
    const h = history();
    h.incr('w0:ctr', 1);
    h.incr('w0:ctr', 3); // only 2 attempts so far: executed twice somewhere
    h.incr('w0:ctr', 1); // went backwards: an acknowledged incr vanished
    const r = checkHistory(h.ops, { 'w0:ctr': '3' });
    expect(r.wrongReads).toBe(2);
    expect(r.lost).toBe(0);
  });

  it('one duplicate execution is one wrong read, however many incrs follow it', () => {
    const h = history();
    h.incr('w0:ctr', 1);
    h.incr('w0:ctr', 3);
    h.incr('w0:ctr', 4);
    h.incr('w0:ctr', 5);
    const r = checkHistory(h.ops, { 'w0:ctr': '5' });
    expect(r).toMatchObject({ wrongReads: 1, duplicated: 1, lost: 0 });
    expect(r.details[0]).toMatch(/executed more often than attempted/);
  });

  it('an unacknowledged incr in between may or may not have applied', () => {
    for (const next of [2, 3]) {
      const h = history();
      h.incr('w0:ctr', 1);
      h.incr('w0:ctr', null, false);
      h.incr('w0:ctr', next);
      expect(checkHistory(h.ops, { 'w0:ctr': String(next) })).toMatchObject({ wrongReads: 0, duplicated: 0, lost: 0 });
    }
  });

  it('an unacknowledged set may or may not have applied', () => {
    const h = history();
    h.set('w0:k0', 'v0');
    h.set('w0:k1', 'v1', false);
    h.get('w0:k1', null);
    h.set('w0:k2', 'v2', false, 'CLOSED');
    const applied = checkHistory(h.ops, { 'w0:k0': 'v0', 'w0:k1': 'v1', 'w0:k2': 'v2' });
    const notApplied = checkHistory(h.ops, { 'w0:k0': 'v0', 'w0:k1': null, 'w0:k2': null });
    for (const r of [applied, notApplied]) {
      expect(r).toMatchObject({ acknowledged: 1, unacknowledged: 2, lost: 0, duplicated: 0, wrongReads: 0 });
    }
    // TIMEOUT is a failed request; CLOSED is the run's own abort at the end.
    expect(applied.failedOps).toBe(1);
    expect(applied.failedCodes).toEqual({ TIMEOUT: 1 });
  });

  it('a later read of an unacknowledged set that applied is fine, a read of a value from nowhere is not', () => {
    const h = history();
    h.set('w0:k0', 'v0', false);
    h.get('w0:k0', 'v0');
    h.get('w0:k0', 'v1');
    const r = checkHistory(h.ops, { 'w0:k0': 'v0' });
    expect(r.wrongReads).toBe(1);
    expect(r.lost).toBe(0);
  });

  it('a key that cannot be read back is reported, not counted as lost', () => {
    const h = history();
    h.set('w0:k0', 'v0');
    const r = checkHistory(h.ops, { 'w0:k0': undefined });
    expect(r).toMatchObject({ lost: 0, unreadable: 1 });
  });

  it('keysOf lists every key once; mulberry32 replays', () => {
    const h = history();
    h.set('b', '1');
    h.set('a', '2');
    h.get('b', '1');
    expect(keysOf(h.ops)).toEqual(['a', 'b']);
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
