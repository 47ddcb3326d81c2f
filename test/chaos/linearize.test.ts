// The register checker on small hand-made histories: it accepts every history some order of
// the operations explains, rejects one that none does, and gives up on one too large.
import { describe, expect, it } from 'vitest';
import { MAX_OPEN, checkKey } from '../../dist/chaos/linearize.js';
import { checkHistory, type OpRecord } from '../../dist/chaos/model.js';

const op = (o: Partial<OpRecord> & Pick<OpRecord, 'op' | 't0' | 't1'>): OpRecord => ({ key: 's:r0', ok: true, ...o });

describe('linearizability of one key', () => {
  it('sequential set, get, del, get: linearizable; a stale read is not', () => {
    const h = [op({ op: 'set', value: 'a', t0: 0, t1: 1 }), op({ op: 'get', result: 'a', t0: 2, t1: 3 }), op({ op: 'del', result: 1, t0: 4, t1: 5 }), op({ op: 'get', result: null, t0: 6, t1: 7 })];
    expect(checkKey(h, null).ok).toBe(true);
    const stale = [...h.slice(0, 3), op({ op: 'get', result: 'a', t0: 6, t1: 7 })];
    expect(checkKey(stale, null).ok).toBe(false);
  });

  it('a read concurrent with two overlapping writes may see either; a later read must agree with one order', () => {
    const h = [op({ op: 'set', value: 'a', t0: 0, t1: 10 }), op({ op: 'set', value: 'b', t0: 1, t1: 2 }), op({ op: 'get', result: 'a', t0: 3, t1: 4 }), op({ op: 'get', result: 'b', t0: 11, t1: 12 })];
    expect(checkKey(h, 'b').ok).toBe(false);
    expect(checkKey(h.slice(0, 3), 'a').ok).toBe(true);
    // A lost update: both acknowledged, the final value is neither.
    expect(checkKey(h.slice(0, 2), null).ok).toBe(false);
  });

  it('an unacknowledged write may or may not have happened', () => {
    const h = [op({ op: 'set', value: 'a', t0: 0, t1: 1 }), op({ op: 'set', value: 'x', t0: 2, t1: 3, ok: false, code: 'TIMEOUT' })];
    expect(checkKey(h, 'a').ok).toBe(true);
    expect(checkKey(h, 'x').ok).toBe(true);
    expect(checkKey(h, 'y').ok).toBe(false);
  });

  it('shared counters: each incr returns one more than some order allows', () => {
    const h = [op({ op: 'incr', key: 's:c0', result: 1, t0: 0, t1: 5 }), op({ op: 'incr', key: 's:c0', result: 2, t0: 1, t1: 4 })];
    expect(checkKey(h, '2').ok).toBe(true);
    expect(checkKey([...h, op({ op: 'incr', key: 's:c0', result: 2, t0: 6, t1: 7 })], '3').ok).toBe(false);
  });

  it('a history with too many operations in flight at once is given up on and counted, not failed', () => {
    const h = Array.from({ length: MAX_OPEN + 1 }, (_, i) => op({ op: 'set', value: `v${i}`, t0: i, t1: 1000 }));
    expect(checkKey(h, 'v3').ok).toBe(null);
    const r = checkHistory(h, { 's:r0': 'v3' });
    expect(r.unchecked).toBe(1);
    expect(r.nonLinearizable).toBe(0);
  });

  it('counters are checked against the last acknowledged result, not only the count', () => {
    const own = (n: number, t: number): OpRecord => ({ op: 'incr', key: 'w0:ctr', result: n, ok: true, t0: t, t1: t + 1 });
    // Three acknowledged incrs, the last returned 5 (two unacknowledged ones applied before): 3 would pass a count.
    const h = [own(1, 0), { op: 'incr', key: 'w0:ctr', ok: false, code: 'TIMEOUT', t0: 2, t1: 3 } as OpRecord, { op: 'incr', key: 'w0:ctr', ok: false, code: 'TIMEOUT', t0: 4, t1: 5 } as OpRecord, own(4, 6), own(5, 8)];
    expect(checkHistory(h, { 'w0:ctr': '5' }).lost).toBe(0);
    expect(checkHistory(h, { 'w0:ctr': '3' }).lost).toBe(2);
  });
});

describe('long histories', () => {
  it('thousands of overlapping operations by 4 clients with no quiet moment are checked, not given up on', () => {
    // Each client back to back; the clients' operations overlap all the time.
    const h: OpRecord[] = [];
    let value: string | null = null;
    for (let n = 0; n < 4000; n++) {
      const c = n % 4;
      const t0 = n + 0.5 * c;
      const t1 = t0 + 3.9;
      // Linearized at invocation order: the model below is the truth the ops report.
      if (n % 3 === 0) {
        value = `v${n}`;
        h.push(op({ op: 'set', value, t0, t1 }));
      } else if (n % 7 === 0) {
        h.push(op({ op: 'del', result: value === null ? 0 : 1, t0, t1 }));
        value = null;
      } else {
        h.push(op({ op: 'get', result: value, t0, t1 }));
      }
    }
    expect(checkKey(h, value).ok).toBe(true);
    expect(checkKey(h, 'nonsense').ok).toBe(false);
  });
});
