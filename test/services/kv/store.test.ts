// The compact store against a Map: every operation answers as the Map does, and iteration
// keeps the Map's order, whatever the layout does underneath (collisions, index and table
// growth, renumbering after deletes, records rewritten in place or moved, compaction).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restoreStore, storeParts } from '../../../dist/services/kv/parts.js';
import { KvStore, type StoreOptions } from '../../../dist/services/kv/store.js';
import { isWellFormed, writeString } from '../../../dist/services/kv/wtf8.js';

type Op = { t: 'set'; k: string; v: string } | { t: 'del'; k: string } | { t: 'get'; k: string };

const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 6 });
/** Keys: a small pool (so keys come back, get rewritten and deleted), odd unicode, lone surrogates. */
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }).map((i) => `k${i}`) },
  { weight: 2, arbitrary: fc.constantFrom('', 'é', '日本語', '😀', '\uD800', '\uDC00', '\uFFFD', 'a\uD83Db', '\uD83D\uDE00x') },
  { weight: 1, arbitrary: codeUnits },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
/** Values from empty to several pages (with 256-byte pages: small, big and in between). */
const valueArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 700 }), fc.constantFrom('x', 'é', '\uD800')).map(([n, c]) => c.repeat(n)) },
  { weight: 1, arbitrary: codeUnits },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('set' as const), k: keyArb, v: valueArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: keyArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('get' as const), k: keyArb }) },
);

function runAgainstMap(opts: StoreOptions, ops: Op[]): KvStore {
  const store = new KvStore(opts);
  const map = new Map<string, string>();
  for (const op of ops) {
    if (op.t === 'set') {
      store.set(op.k, op.v);
      map.set(op.k, op.v);
    } else if (op.t === 'del') {
      expect(store.delete(op.k)).toBe(map.delete(op.k));
    } else {
      expect(store.get(op.k)).toBe(map.get(op.k));
      expect(store.has(op.k)).toBe(map.has(op.k));
    }
    expect(store.size).toBe(map.size);
  }
  expect([...store]).toEqual([...map]);
  for (const [k, v] of map) expect(store.get(k)).toBe(v);
  // A copy from the snapshot parts reads the same, in the same order.
  expect([...restoreStore([...storeParts(store)])]).toEqual([...map]);
  return store;
}

const LAYOUTS: [string, StoreOptions][] = [
  ['default layout', {}],
  ['256-byte pages, 4 distinct hashes, renumbering early', { pageBits: 8, hashMask: 0x3, minHoles: 2 }],
  ['1 KiB pages, every hash equal', { pageBits: 10, hashMask: 0, minHoles: 8 }],
];

describe('kv store', () => {
  for (const [name, opts] of LAYOUTS) {
    it(`answers like a Map (${name})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
          runAgainstMap(opts, ops);
        }),
        { numRuns: 150 },
      );
    });
  }

  /** Pairs as a snapshot lays them out for putRun: records end to end, and their lengths. */
  function run(pairs: [string, string][]): { bytes: Buffer; lens: Uint32Array } {
    const bytes = Buffer.alloc(pairs.reduce((n, [k, v]) => n + 3 * (k.length + v.length), 0));
    const lens = new Uint32Array(pairs.length * 2);
    let at = 0;
    pairs.forEach(([k, v], i) => {
      for (const [j, s] of [k, v].entries()) {
        const n = writeString(s, bytes, at, isWellFormed(s));
        lens[2 * i + j] = n * 2 + (isWellFormed(s) ? 0 : 1);
        at += n;
      }
    });
    return { bytes: bytes.subarray(0, at), lens };
  }

  for (const [name, opts] of LAYOUTS) {
    it(`takes runs of records as set would, keys given twice included (${name})`, () => {
      const pairArb = fc.tuple(keyArb, valueArb);
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(fc.array(pairArb, { maxLength: 80 }), { maxLength: 4 }), (ops, runs) => {
          const store = runAgainstMap(opts, ops);
          const map = new Map([...store]);
          for (const pairs of runs) {
            const { bytes, lens } = run(pairs);
            // At an offset, as a part's records follow its lengths.
            store.putRun(Buffer.concat([Buffer.from('head'), bytes]), 4, lens, pairs.length);
            for (const [k, v] of pairs) map.set(k, v);
          }
          // The index takes every run at once, at the first lookup.
          expect(store.size).toBe(map.size);
          expect([...store]).toEqual([...map]);
          for (const [k, v] of map) expect(store.get(k)).toBe(v);
          // And it goes on like any store.
          for (const [k] of [...map].slice(0, 5)) expect(store.delete(k)).toBe(true);
          store.set('after', 'x');
          expect(store.get('after')).toBe('x');
        }),
        { numRuns: 100 },
      );
    });
  }

  it('grows, renumbers and compacts through many keys, and keeps the Map order', () => {
    const store = new KvStore({ pageBits: 12, minHoles: 16 });
    const map = new Map<string, string>();
    const set = (k: string, v: string) => (store.set(k, v), map.set(k, v));
    for (let i = 0; i < 20_000; i++) set(`key:${i}`, `v${i}`);
    for (let i = 0; i < 20_000; i += 3) expect(store.delete(`key:${i}`)).toBe(map.delete(`key:${i}`));
    for (let i = 0; i < 20_000; i += 2) set(`key:${i}`, 'w'.repeat(i % 97));
    for (let i = 1; i < 20_000; i += 5) set(`key:${i}`, '');
    for (let i = 0; i < 15_000; i++) expect(store.delete(`key:${i}`)).toBe(map.delete(`key:${i}`));
    expect(store.size).toBe(map.size);
    expect([...store]).toEqual([...map]);
    // Mass deletion gives memory back.
    const before = store.memory();
    for (const k of [...map.keys()]) store.delete(k);
    expect(store.size).toBe(0);
    expect([...store]).toEqual([]);
    set('again', 'x');
    expect(store.memory().entries).toBeLessThan(before.entries);
    expect(store.get('again')).toBe('x');
  });

  it('rewrites a value in place when it fits, and moves it when it grows, across big records', () => {
    const store = new KvStore({ pageBits: 10 });
    const sizes = [0, 5, 100, 127, 128, 129, 500, 2000, 5000, 1500, 3, 128, 9000, 0];
    for (const [i, n] of sizes.entries()) {
      store.set('a', String(i).padEnd(n, 'z'));
      store.set('b', 'y'.repeat(n));
      expect(store.get('a')).toBe(String(i).padEnd(n, 'z'));
      expect(store.get('b')).toBe('y'.repeat(n));
    }
    expect([...store.keys()]).toEqual(['a', 'b']);
  });

  it('keeps keys apart that UTF-8 would merge (lone surrogates) and reads them back exactly', () => {
    const store = new KvStore();
    const keys = ['\uD800', '\uDBFF', '\uDC00', '\uFFFD', '\uD800\uDC00', '\uDC00\uD800', 'x\uD800', 'x\uFFFD', '😀', '\uD83D'];
    keys.forEach((k, i) => store.set(k, `${k}|${i}`));
    expect(store.size).toBe(keys.length);
    keys.forEach((k, i) => expect(store.get(k)).toBe(`${k}|${i}`));
    expect([...store.keys()]).toEqual(keys);
    expect([...restoreStore([...storeParts(store)])]).toEqual(keys.map((k, i) => [k, `${k}|${i}`]));
  });

  it('takes a fraction of the memory of a Map: under 80 bytes a key for 100 000 keys of 16-byte values', () => {
    const store = new KvStore();
    for (let i = 0; i < 100_000; i++) store.set(`key:${i}`, String(i).padEnd(16, 'v'));
    const m = store.memory();
    expect((m.entries + m.index + m.records) / store.size).toBeLessThan(80);
  });
});
