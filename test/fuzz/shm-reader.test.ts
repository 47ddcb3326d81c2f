// The ring reader given corrupted ring bytes: it returns only entries the writer wrote, in
// seq order, or throws RingCorruptError; it never throws anything else, never loops, and
// never hands out a view outside the ring. An undamaged ring round-trips.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { RingCorruptError } from '../../dist/errors.js';
import { DATA_OFFSET, Hdr } from '../../dist/ipc/shm-layout.js';
import { RingReader, RingWriter, ShmRing } from '../../dist/ipc/shm-ring.js';
import { budget, fuzz } from './harness.js';

const CAPACITY = 4096;
const NAME = `/osps-test-${process.pid}-fuzz-reader`;
let ring: ShmRing;
let writer: RingWriter;

beforeAll(() => {
  ShmRing.reclaim(NAME, { force: true });
  ring = ShmRing.create({ shmName: NAME, instance: 'fuzz', capacityBytes: CAPACITY });
  writer = new RingWriter(ring);
});

afterAll(() => {
  ring.detach();
  ShmRing.destroy(NAME);
});

type Damage = { at: 'data'; off: number; v: number } | { at: 'word'; word: number; v: number };

interface Case {
  /** Entries written and read before the case, so it starts anywhere in the ring (and wraps). */
  skip: number[];
  entries: Uint8Array[];
  damage: Damage[];
  /** Largest batch per read() call. */
  batch: number;
  epoch: number;
  checkEpoch: boolean;
}

const word = fc.constantFrom(Hdr.HEAD, Hdr.TAIL, Hdr.GENERATION);
const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ at: fc.constant('data' as const), off: fc.nat(CAPACITY - 1), v: fc.nat(255) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.constant('word' as const),
      word,
      v: fc.oneof(fc.nat(0xffffffff), fc.integer({ min: -16, max: 16 })),
    }),
  },
);

function caseOf(damages: fc.Arbitrary<Damage[]>): fc.Arbitrary<Case> {
  return fc.record({
    skip: fc.array(fc.nat(600), { maxLength: 6 }),
    entries: fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 8 }),
    damage: damages,
    batch: fc.integer({ min: 1, max: 10 }),
    epoch: fc.nat(3),
    checkEpoch: fc.boolean(),
  });
}

/** Writes the case into the ring from a fresh generation: the first entry's seq, and how many fit. */
function writeCase(c: Case): { first: number; written: number } {
  writer.reset();
  let seq = 1;
  for (const len of c.skip) {
    if (!writer.tryAppend(new Uint8Array(len), seq, c.epoch)) break;
    writer.publish();
    const r = new RingReader(ring, { nextSeq: seq });
    r.read();
    r.release();
    seq++;
  }
  const first = seq;
  for (const e of c.entries) {
    if (!writer.tryAppend(e, seq, c.epoch)) break;
    seq++;
  }
  writer.publish();
  return { first, written: seq - first };
}

function applyDamage(c: Case): void {
  const raw = ring.rawBuffer;
  for (const d of c.damage) {
    if (d.at === 'data') raw[DATA_OFFSET + d.off] = d.v;
    else raw.writeUInt32LE(d.v >>> 0, d.word);
  }
}

/** Reads until the ring is drained or the reader refuses; checks every returned entry. */
function readChecked(c: Case, first: number): { read: number; error: RingCorruptError | null } {
  let reader: RingReader;
  try {
    reader = new RingReader(ring, { nextSeq: first, ...(c.checkEpoch ? { expectedEpoch: () => c.epoch } : {}) });
  } catch (err) {
    assert.ok(err instanceof RingCorruptError);
    return { read: 0, error: err as RingCorruptError };
  }
  const raw = ring.rawBuffer;
  const dataStart = raw.byteOffset + DATA_OFFSET;
  const dataEnd = dataStart + CAPACITY;
  let expectSeq = first;
  // Each read() returns at least one entry, returns nothing (drained), or throws: more
  // calls than bytes in the ring means it is going round in circles.
  for (let calls = 0; calls <= CAPACITY; calls++) {
    let got;
    try {
      got = reader.read(c.batch);
    } catch (err) {
      assert.ok(err instanceof RingCorruptError);
      return { read: expectSeq - first, error: err as RingCorruptError };
    }
    if (got.length === 0) return { read: expectSeq - first, error: null };
    assert.ok(got.length <= c.batch);
    for (const e of got) {
      assert.equal(e.seq, expectSeq);
      assert.ok(e.payload.byteOffset >= dataStart);
      assert.ok(e.payload.byteOffset + e.payload.byteLength <= dataEnd);
      // Only what the writer wrote: CRC-checked, so damage never passes as data.
      const wrote = c.entries[expectSeq - first];
      assert.notEqual(wrote, undefined);
      assert.ok(Buffer.from(e.payload).equals(Buffer.from(wrote as Uint8Array)));
      if (c.checkEpoch) assert.equal(e.epoch, c.epoch);
      expectSeq++;
    }
    reader.release();
  }
  throw new Error('the reader kept returning entries past the end of the ring');
}

describe('RingReader under fuzzing', () => {
  it('returns only written entries in order, or RingCorruptError, from a damaged ring', () => {
    fuzz('RingReader', caseOf(fc.array(damage, { minLength: 1, maxLength: 6 })), budget(750, 60_000), (c) => {
      const { first } = writeCase(c);
      applyDamage(c);
      readChecked(c, first);
    });
  });

  it('returns only written entries in order, or RingCorruptError, from a ring of random bytes', () => {
    const arb = fc.tuple(caseOf(fc.constant([])), fc.uint8Array({ minLength: CAPACITY, maxLength: CAPACITY }));
    fuzz('RingReader', arb, budget(200, 10_000), ([c, bytes]) => {
      const { first } = writeCase(c);
      ring.rawBuffer.set(bytes, DATA_OFFSET);
      readChecked(c, first);
    });
  });

  it('round-trips every entry of an undamaged ring', () => {
    fuzz('RingReader', caseOf(fc.constant([])), budget(250, 20_000), (c) => {
      const { first, written } = writeCase(c);
      const { read, error } = readChecked(c, first);
      assert.equal(error, null);
      assert.equal(read, written);
    });
  });
});
