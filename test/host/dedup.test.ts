// The dedup window against the simplest model of it (a Map that forgets its oldest entry):
// the same replies, digests and order, whether a reply is kept compact or whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupWindow, type Recorded } from '../../dist/host/dedup.js';
import { requestDigest } from '../../dist/host/digest.js';
import type { Reply } from '../../dist/protocol/wire.js';

const idArb = fc.oneof(fc.integer({ min: 0, max: 30 }).map((i) => `r${i}`), fc.string({ maxLength: 4 }));
const digestArb = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 8 }).map((s) => requestDigest('set', s)) },
  { weight: 1, arbitrary: fc.constantFrom('', 'short', 'd', '================') },
);
const resultArb = fc.oneof(
  fc.constant('OK'),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.constant(-0),
  fc.string({ maxLength: 3 }),
  fc.constant({ nested: [1, 'x'] }),
);
const replyArb = (id: string): fc.Arbitrary<Reply> =>
  fc.oneof(
    { weight: 4, arbitrary: resultArb.map((result) => ({ id, ok: true as const, result })) },
    { weight: 1, arbitrary: fc.constant({ id, ok: false as const, error: { code: 'WRONG_TYPE', message: 'no' } }) },
    { weight: 1, arbitrary: fc.constant({ id: `${id}-other`, ok: true as const, result: 'OK' }) },
  );
const opArb = fc.oneof(
  { weight: 4, arbitrary: idArb.chain((id) => fc.record({ t: fc.constant('record' as const), id: fc.constant(id), digest: digestArb, reply: replyArb(id) })) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clear' as const) }) },
);

/** The window as it was first written: a Map, and the order ids came in. */
class Model {
  readonly m = new Map<string, Recorded>();
  constructor(readonly capacity: number) {}
  record(id: string, digest: string, reply: Reply) {
    if (this.capacity <= 0) return;
    if (!this.m.has(id) && this.m.size >= this.capacity) this.m.delete(this.m.keys().next().value as string);
    this.m.set(id, { digest, reply });
  }
}

describe('dedup window', () => {
  it('answers like a Map that forgets its oldest reply', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.array(opArb, { maxLength: 200 }), (capacity, ops) => {
        const w = new DedupWindow(capacity);
        const model = new Model(capacity);
        for (const op of ops) {
          if (op.t === 'clear') {
            w.clear();
            model.m.clear();
            continue;
          }
          w.record(op.id, op.digest, op.reply);
          model.record(op.id, op.digest, op.reply);
          expect(w.size).toBe(model.m.size);
          expect(w.get(op.id)).toEqual(model.m.get(op.id));
        }
        expect([...w.entries()]).toEqual([...model.m.entries()]);
        for (const [id, r] of model.m) {
          expect(w.has(id)).toBe(true);
          expect(w.get(id)).toEqual(r);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a number exactly (-0, fractions) and grows its room up to the capacity', () => {
    const w = new DedupWindow(5000);
    for (let i = 0; i < 6000; i++) w.record(`id${i}`, requestDigest('incr', String(i)), { id: `id${i}`, ok: true, result: i === 5999 ? -0 : i / 7 });
    expect(w.size).toBe(5000);
    expect(w.has('id999')).toBe(false);
    expect(w.get('id1000')).toEqual({ digest: requestDigest('incr', '1000'), reply: { id: 'id1000', ok: true, result: 1000 / 7 } });
    expect(Object.is(w.get('id5999')?.reply.ok && (w.get('id5999')?.reply as { result: unknown }).result, -0)).toBe(true);
    expect([...w.entries()][0]?.[0]).toBe('id1000');
  });

  it('in bulk (a replay) keeps the last replies the ring holds, as recording them one by one would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.array(opArb, { maxLength: 60 }), fc.array(opArb, { maxLength: 200 }), (capacity, before, bulk) => {
        const w = new DedupWindow(capacity);
        const model = new Model(capacity);
        for (const op of before) {
          if (op.t === 'clear') {
            w.clear();
            model.m.clear();
          } else {
            w.record(op.id, op.digest, op.reply);
            model.record(op.id, op.digest, op.reply);
          }
        }
        // In bulk every reply takes a place in the ring; the map is built from the last `capacity` of them.
        let seq: [string, Recorded][] = [...model.m.entries()];
        w.beginBulk();
        for (const op of bulk) {
          if (op.t === 'clear') {
            w.clear();
            seq = [];
          } else {
            w.record(op.id, op.digest, op.reply);
            seq.push([op.id, { digest: op.digest, reply: op.reply }]);
          }
        }
        const expected = new Model(capacity);
        for (const [id, r] of seq.slice(Math.max(0, seq.length - capacity))) expected.record(id, r.digest, r.reply);
        expect([...w.entries()]).toEqual([...expected.m.entries()]);
        expect(w.size).toBe(expected.m.size);
        // After the bulk, recording goes on as usual.
        w.record('after', requestDigest('set', 'x'), { id: 'after', ok: true, result: 'OK' });
        expected.record('after', requestDigest('set', 'x'), { id: 'after', ok: true, result: 'OK' });
        expect([...w.entries()]).toEqual([...expected.m.entries()]);
      }),
      { numRuns: 300 },
    );
  });

  it('exports its entries as bytes, in parts of any size, that import to the same window', () => {
    const lone = fc.constantFrom('\uD800', 'x\uDC00', 'é😀');
    const ids = fc.oneof(idArb, lone, fc.string({ unit: 'binary', maxLength: 6 }));
    const op = ids.chain((id) => fc.record({ id: fc.constant(id), digest: digestArb, reply: replyArb(id) }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 300 }), (capacity, ops, partBytes) => {
        const w = new DedupWindow(capacity);
        for (const o of ops) w.record(o.id, o.digest, o.reply);
        const copy = new DedupWindow(capacity);
        let parts = 0;
        for (let at = 0; at < w.size; parts++) {
          const { bytes, next } = w.exportFrom(at, partBytes);
          expect(next).toBeGreaterThan(at);
          copy.importBytes(bytes);
          at = next;
        }
        expect(w.exportFrom(w.size, partBytes).bytes.length).toBe(0);
        expect(parts).toBeLessThanOrEqual(w.size);
        // A reply kept whole goes as JSON, as it goes to the client (a -0 in it becomes 0).
        const json = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
        expect(json([...copy.entries()])).toEqual(json([...w.entries()]));
        expect(copy.size).toBe(w.size);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed dedup bytes', () => {
    const w = new DedupWindow(10);
    w.record('a', requestDigest('set', 'x'), { id: 'a', ok: true, result: 7 });
    const { bytes } = w.exportFrom(0, 1024);
    expect(() => new DedupWindow(10).importBytes(bytes.subarray(0, bytes.length - 1))).toThrow(/cut short/);
    expect(() => new DedupWindow(10).importBytes(Buffer.from([9, 0, 0]))).toThrow(/malformed/);
    expect(() => new DedupWindow(10).importBytes(Buffer.from([0x4a, 2, 0, 0, 0, 0x5b, 0x5d]))).toThrow(/malformed/);
  });
});
