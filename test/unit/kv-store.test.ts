import { describe, expect, it } from 'vitest';
import { KvStore } from '../../src/store/kv-store.js';
import type { Request } from '../../src/protocol/wire.js';

const w = (seq: number, req: Request) => ({ seq, req });

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
    expect(a.snapshot()).toEqual(b.snapshot());
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
    const copy = new KvStore(3);
    copy.load(s.snapshot());
    expect(copy.dedup.get('r4')).toEqual({ id: 'r4', ok: true, result: 4 });
    expect(copy.get('c')).toBe('5');
    expect(copy.seq).toBe(5);
  });
});
