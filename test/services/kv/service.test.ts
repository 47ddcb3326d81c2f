import { describe, expect, it } from 'vitest';
import { ServiceHost } from '../../../dist/host/host.js';
import { legacyParts, openSnapshot, SnapshotRestorer } from '../../../dist/host/snapshot.js';
import { requestDigest } from '../../../dist/host/digest.js';
import type { Json } from '../../../dist/protocol/wire.js';
import { kvService, type KvState } from '../../../dist/services/kv/service.js';

const host = (dedup = 100) => new ServiceHost(kvService, { dedupWindow: dedup });

function run(h: ServiceHost<KvState>, id: string, op: string, args: { [k: string]: Json }) {
  return h.apply({ id, op, args, digest: requestDigest(op, JSON.stringify(args)), seq: h.seq + 1, at: 1000 + h.seq });
}

/** A copy made the way a new standby gets one: the host snapshot in parts. */
function copyOf(h: ServiceHost<KvState>, dedup: number): ServiceHost<KvState> {
  const c = host(dedup);
  const r = new SnapshotRestorer();
  const cur = openSnapshot(h);
  for (let p = cur.next(); p; p = cur.next()) r.feed(p);
  r.finish(c);
  return c;
}

const state = (h: ServiceHost<KvState>) => ({ seq: h.seq, kv: [...h.state.map], dedup: [...h.dedup.entries()] });

describe('key-value service', () => {
  it('two hosts fed the same entries give the same replies and state', () => {
    const a = host();
    const b = host();
    const ops: [string, { [k: string]: Json }][] = [
      ['set', { key: 'x', value: '10' }],
      ['incr', { key: 'x', by: 5 }],
      ['incr', { key: 'y', by: 1 }],
      ['del', { key: 'x' }],
      ['del', { key: 'x' }],
      ['set', { key: 's', value: 'abc' }],
      ['incr', { key: 's', by: 1 }],
      ['set', { key: 'big', value: String(Number.MAX_SAFE_INTEGER) }],
      ['incr', { key: 'big', by: 1 }],
    ];
    const ra = ops.map(([op, args], i) => run(a, String(i), op, args));
    const rb = ops.map(([op, args], i) => run(b, String(i), op, args));
    expect(ra).toEqual(rb);
    expect(ra.map((r) => (r.ok ? r.result : r.error.code))).toEqual(['OK', 15, 1, 1, 0, 'OK', 'WRONG_TYPE', 'OK', 'WRONG_TYPE']);
    expect(state(a)).toEqual(state(b));
    expect(a.state.map.get('s')).toBe('abc');
    expect(a.query('get', { key: 'y' }, 'q')).toEqual({ id: 'q', ok: true, result: '1' });
    expect(a.query('get', { key: 'nope' }, 'q')).toEqual({ id: 'q', ok: true, result: null });
    expect(a.keys()).toBe(3);
  });

  it('refuses a log gap', () => {
    const h = host();
    expect(() => h.apply({ id: 'a', op: 'set', args: { key: 'k', value: 'v' }, digest: 'd', seq: 2, at: 0 })).toThrow(/gap/);
  });

  it('the dedup window keeps the last N replies and survives a snapshot', () => {
    const h = host(3);
    for (let i = 1; i <= 5; i++) run(h, `r${i}`, 'incr', { key: 'c', by: 1 });
    expect(h.dedup.has('r1')).toBe(false);
    expect(h.dedup.get('r5')?.reply).toEqual({ id: 'r5', ok: true, result: 5 });
    const copy = copyOf(h, 3);
    expect(copy.dedup.get('r4')?.reply).toEqual({ id: 'r4', ok: true, result: 4 });
    expect(copy.state.map.get('c')).toBe('5');
    expect(copy.seq).toBe(5);
    expect(copy.now).toBe(h.now);
  });

  it('a snapshot in many parts rebuilds the same host', () => {
    const h = host(50);
    for (let i = 1; i <= 3000; i++) run(h, `r${i}`, i % 7 === 0 ? 'del' : 'set', i % 7 === 0 ? { key: `k${i % 60}` } : { key: `k${i}`, value: 'x'.repeat(i % 400) });
    const cur = openSnapshot(h);
    const parts: Buffer[] = [];
    for (let p = cur.next(); p; p = cur.next()) parts.push(p);
    expect(parts.length).toBeGreaterThan(3);
    const copy = copyOf(h, 50);
    expect(state(copy)).toEqual(state(h));
    expect(copy.dedup.has('r2950')).toBe(false);
  });

  it('snapshots its keys as bytes, and restores from the JSON pairs of older versions', () => {
    const h = host(10);
    run(h, 'a', 'set', { key: 'k\uD800', value: 'é'.repeat(3) });
    run(h, 'b', 'incr', { key: 'n', by: 41 });
    const [service] = [...kvService.snapshot!(h.state) as Iterable<unknown>];
    expect(service).toBeInstanceOf(Uint8Array);
    const old = host(10);
    const r = new SnapshotRestorer();
    for (const p of legacyParts(7, 1234, 'kv', [[['x', '1'], ['k\uD800', 'ééé']], [['n', '41']]], [['a', '', { id: 'a', ok: true, result: 'OK' }]])) r.feed(p);
    r.finish(old);
    expect([...old.state.map]).toEqual([['x', '1'], ['k\uD800', 'ééé'], ['n', '41']]);
    expect(old.seq).toBe(7);
    expect(old.keys()).toBe(3);
    expect(run(old, 'c', 'incr', { key: 'n' })).toEqual({ id: 'c', ok: true, result: 42 });
    expect(old.lookup('a', 'whatever')).toEqual({ reply: { id: 'a', ok: true, result: 'OK' } });
  });
});
