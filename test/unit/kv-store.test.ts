import { describe, expect, it } from 'vitest';
import { DedupWindow } from '../../src/store/dedup.js';
import { KvStore } from '../../src/store/kv-store.js';
import type { Request } from '../../src/protocol/wire.js';

const w = (seq: number, req: Request) => ({ seq, req });

/** A copy made the way a new standby gets one: the snapshot in parts. */
function copyOf(s: KvStore, capacity: number, partChars = 16): KvStore {
  const c = new KvStore(capacity);
  for (const p of s.parts(partChars)) c.loadPart(p);
  return c;
}

const state = (s: KvStore) => ({ seq: s.seq, kv: [...s.parts(1 << 30)] });

describe('replicated store', () => {
  it('two stores fed the same entries give the same replies and state', () => {
    const a = new KvStore(100);
    const b = new KvStore(100);
    const entries = [
      w(1, { id: '1', op: 'set', key: 'x', value: '10' }),
      w(2, { id: '2', op: 'incr', key: 'x', by: 5 }),
      w(3, { id: '3', op: 'incr', key: 'y' }),
      w(4, { id: '4', op: 'del', key: 'x' }),
      w(5, { id: '5', op: 'del', key: 'x' }),
      w(6, { id: '6', op: 'set', key: 's', value: 'abc' }),
      w(7, { id: '7', op: 'incr', key: 's' }),
    ];
    const ra = entries.map((e) => a.apply(e));
    const rb = entries.map((e) => b.apply(e));
    expect(ra).toEqual(rb);
    expect(ra.map((r) => (r.ok ? r.result : r.error.code))).toEqual(['OK', 15, 1, 1, 0, 'OK', 'WRONG_TYPE']);
    expect(state(a)).toEqual(state(b));
  });

  it('refuses a log gap', () => {
    const s = new KvStore(10);
    expect(() => s.apply(w(2, { id: 'a', op: 'set', key: 'k', value: 'v' }))).toThrow(/gap/);
  });

  it('the dedup window keeps the last N replies and survives a snapshot', () => {
    const s = new KvStore(3);
    for (let i = 1; i <= 5; i++) s.apply(w(i, { id: `r${i}`, op: 'incr', key: 'c' }));
    expect(s.dedup.has('r1')).toBe(false);
    expect(s.dedup.get('r5')).toEqual({ id: 'r5', ok: true, result: 5 });
    const copy = copyOf(s, 3);
    expect(copy.dedup.get('r4')).toEqual({ id: 'r4', ok: true, result: 4 });
    expect(copy.get('c')).toBe('5');
    expect(copy.seq).toBe(5);
  });

  it('a snapshot in many small parts rebuilds the same store', () => {
    const s = new KvStore(50);
    for (let i = 1; i <= 200; i++) s.apply(w(i, { id: `r${i}`, op: i % 7 === 0 ? 'del' : 'set', key: `k${i % 60}`, value: 'x'.repeat(i % 13) }));
    const parts = [...s.parts(40)];
    expect(parts.length).toBeGreaterThan(10);
    expect(parts[0]).toEqual({ begin: { commitSeq: 200 } });
    const copy = copyOf(s, 50, 40);
    expect(state(copy)).toEqual(state(s));
    expect(copy.dedup.get('r151')).toEqual(s.dedup.get('r151'));
    expect(copy.dedup.has('r150')).toBe(false);
  });

  it('a recorded write re-applied by its effect gives the state its reply describes', () => {
    const live = new KvStore(10);
    const replayed = new KvStore(10);
    const reqs: Request[] = [
      { id: 'a', op: 'set', key: 'n', value: '41' },
      { id: 'b', op: 'incr', key: 'n' },
      { id: 'c', op: 'set', key: 's', value: 'text' },
      { id: 'd', op: 'incr', key: 's' },
      { id: 'e', op: 'del', key: 'n' },
    ];
    reqs.forEach((req, i) => replayed.applyRecorded(w(i + 1, req), live.apply(w(i + 1, req))));
    expect(replayed.get('n')).toBeNull();
    expect(replayed.get('s')).toBe('text');
    expect(replayed.seq).toBe(5);
    // The same effects applied on a store that saw a later value first leave that later value.
    const fuzzy = new KvStore(10);
    fuzzy.loadPart({ begin: { commitSeq: 1 } });
    fuzzy.loadPart({ kv: [['n', '42']] });
    fuzzy.applyRecorded(w(2, reqs[1] as Request), { id: 'b', ok: true, result: 42 });
    expect(fuzzy.get('n')).toBe('42');
  });

  it('the dedup window keeps exactly the last N ids, oldest first, across many wraps', () => {
    const d = new DedupWindow(5);
    const r = (id: string) => ({ id, ok: true as const, result: id });
    for (let i = 0; i < 23; i++) d.record(`r${i}`, r(`r${i}`));
    expect([...d.live()].map(([id]) => id)).toEqual(['r18', 'r19', 'r20', 'r21', 'r22']);
    // A repeated id (a replayed reply) keeps its place and evicts nothing.
    d.record('r19', r('again'));
    expect([...d.live()].map(([id]) => id)).toEqual(['r18', 'r19', 'r20', 'r21', 'r22']);
    expect(d.get('r19')?.result).toBe('again');
    d.record('r23', r('r23'));
    expect(d.has('r18')).toBe(false);
    expect([...d.live()].map(([id]) => id)).toEqual(['r19', 'r20', 'r21', 'r22', 'r23']);
    d.load([['a', r('a')], ['b', r('b')]]);
    expect([...d.live()].map(([id]) => id)).toEqual(['a', 'b']);
    for (let i = 0; i < 4; i++) d.record(`n${i}`, r(`n${i}`));
    expect([...d.live()].map(([id]) => id)).toEqual(['b', 'n0', 'n1', 'n2', 'n3']);
  });
});
