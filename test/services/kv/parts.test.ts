// The key-value service's snapshot parts: compact records that depend on the contents and
// their order only, and the JSON pairs of older versions still restore.
import { describe, expect, it } from 'vitest';
import { restoreStore, storeParts } from '../../../dist/services/kv/parts.js';
import { KvStore } from '../../../dist/services/kv/store.js';

const parts = (s: KvStore) => [...storeParts(s)].map((p) => Buffer.from(p));

describe('kv snapshot parts', () => {
  it('are the same bytes for the same contents in the same order, whatever the history', () => {
    const a = new KvStore({ pageBits: 8, minHoles: 2 });
    for (let i = 0; i < 500; i++) a.set(`k${i}`, 'v'.repeat(i % 50));
    for (let i = 0; i < 500; i += 2) a.delete(`k${i}`);
    for (let i = 1; i < 500; i += 4) a.set(`k${i}`, 'w'.repeat(i % 300));
    const b = restoreStore(parts(a));
    expect(parts(b)).toEqual(parts(a));
    // The same commands on both keep them equal (new keys go last on both, in place or not).
    for (const s of [a, b]) {
      s.delete('k1');
      s.set('k1', 'back');
      s.set('k3', 'x'.repeat(1000));
      s.set('new', '1');
    }
    expect(parts(b)).toEqual(parts(a));
    expect([...b]).toEqual([...a]);
  });

  it('are cut at about 256 KiB, a large record in a part of its own', () => {
    const s = new KvStore();
    for (let i = 0; i < 40; i++) s.set(`k${i}`, String(i).repeat(20_000));
    s.set('huge', 'h'.repeat(600_000));
    s.set('after', 'a');
    const ps = parts(s);
    expect(ps.length).toBeGreaterThan(3);
    for (const p of ps.slice(0, -2)) expect(p.length).toBeLessThanOrEqual(256 * 1024);
    expect(ps.at(-2)!.length).toBeGreaterThan(600_000);
    expect([...restoreStore(ps)]).toEqual([...s]);
  });

  it('an empty store has no parts and restores from none', () => {
    expect(parts(new KvStore())).toEqual([]);
    expect(restoreStore([]).size).toBe(0);
  });

  it('restore takes the JSON pairs of older snapshots, also mixed with records', () => {
    const s = new KvStore();
    s.set('b', '2');
    const restored = restoreStore([[['a', '1'], ['\uD800', 'lone']], ...parts(s), [['a', 'again']]]);
    expect([...restored]).toEqual([['a', 'again'], ['\uD800', 'lone'], ['b', '2']]);
  });

  it('restore takes the record parts of the previous format (lengths before each record)', () => {
    const rec = (k: string, v: string) => Buffer.concat([Buffer.from([k.length * 2, v.length * 2]), Buffer.from(k + v)]);
    const p = Buffer.concat([Buffer.from([1, 3]), rec('a', '1'), rec('b', '22'), rec('a', '333')]);
    expect([...restoreStore([p, Buffer.concat([Buffer.from([1, 3]), rec('c', '')])])]).toEqual([
      ['a', '333'],
      ['b', '22'],
      ['c', ''],
    ]);
  });

  it('restores many parts of keys, every one readable, into the same parts', () => {
    const s = new KvStore();
    for (let i = 0; i < 300_000; i++) s.set(`key:${i}`, String(i).padEnd(16, 'v'));
    const ps = parts(s);
    expect(ps.length).toBeGreaterThan(20);
    const b = restoreStore(ps);
    expect(b.size).toBe(s.size);
    for (let i = 0; i < 300_000; i += 997) expect(b.get(`key:${i}`)).toBe(String(i).padEnd(16, 'v'));
    expect(Buffer.concat(parts(b)).equals(Buffer.concat(ps))).toBe(true);
  });

  it('refuses malformed parts', () => {
    const s = new KvStore();
    s.set('key', 'value');
    const [p] = parts(s);
    expect(() => restoreStore([Buffer.concat([Buffer.from([9]), p!.subarray(1)])])).toThrow(/format/);
    expect(() => restoreStore([p!.subarray(0, p!.length - 2)])).toThrow(/past its part/);
    expect(() => restoreStore([Buffer.from([1, 0x80])])).toThrow(/cut short/);
    expect(() => restoreStore([Buffer.concat([p!, Buffer.from('x')])])).toThrow(/bytes after its records/);
    expect(() => restoreStore([Buffer.from([2, 1, 100, 0, 0])])).toThrow(/more records than bytes/);
    expect(() => restoreStore([{ a: 1 }])).toThrow(/neither/);
    expect(() => restoreStore([[['a', 1]]])).toThrow(/malformed/);
  });
});
