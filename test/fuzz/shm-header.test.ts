// The shm header as a decoder: parseHeader and the /dev/shm inspection behind attach() and
// reclaim() take any bytes and either describe a sane geometry or throw RingCorruptError;
// repairHeader() undoes any damage to the identity fields of a live object.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { OspsError, RingCorruptError } from '../../dist/errors.js';
import { HEADER_BYTES, Hdr, LIB_PREFIX_BYTES, MAX_INSTANCE_BYTES, SHM_MAGIC, isValidCapacity, objectBytes } from '../../dist/ipc/shm-layout.js';
import { ShmRing } from '../../dist/ipc/shm-ring.js';
import { parseHeader } from '../../dist/ipc/shm/header.js';
import { budget, fuzz, thrownBy } from './harness.js';

const CAPACITY = 4096;
const NAME = `/osps-test-${process.pid}-fuzz-header`;
const LOOSE = `/osps-test-${process.pid}-fuzz-object`;
let ring: ShmRing;
let valid: Buffer;

beforeAll(() => {
  ShmRing.reclaim(NAME, { force: true });
  ring = ShmRing.create({ shmName: NAME, instance: 'fuzz-header', capacityBytes: CAPACITY });
  valid = Buffer.from(ring.rawBuffer.subarray(0, HEADER_BYTES));
});

afterAll(() => {
  ring.detach();
  ShmRing.destroy(NAME);
  fs.rmSync(`/dev/shm${LOOSE}`, { force: true });
});

/** Edits that hit the identity fields most of the time, anywhere in the header otherwise. */
const identityOffsets = [Hdr.MAGIC, Hdr.VERSION, Hdr.HEADER_SIZE, Hdr.CAPACITY, Hdr.INSTANCE_LEN, Hdr.INSTANCE];
const edit = fc.record({
  at: fc.oneof(fc.constantFrom(...identityOffsets).chain((o) => fc.integer({ min: o, max: o + 3 })), fc.nat(HEADER_BYTES - 1)),
  v: fc.nat(255),
});
const edits = fc.array(edit, { minLength: 1, maxLength: 8 });

function parseChecked(h: Buffer, objectLen: number): void {
  let info: ReturnType<typeof parseHeader> | undefined;
  const err = thrownBy(() => (info = parseHeader('/fuzz', h, objectLen)));
  if (err !== undefined) {
    assert.ok(err instanceof RingCorruptError, String(err));
    return;
  }
  assert.ok(info);
  assert.ok(isValidCapacity(info.capacity));
  assert.equal(objectLen, objectBytes(info.capacity));
  assert.ok(Buffer.byteLength(info.instance) <= MAX_INSTANCE_BYTES * 3);
}

describe('shm header under fuzzing', () => {
  it('parseHeader accepts a sane geometry or throws RingCorruptError, for random headers', () => {
    // Every field lies in the first 528 bytes; the rest of the header is reserved.
    const header = fc.uint8Array({ minLength: 528, maxLength: 528 }).map((u) => {
      const b = Buffer.alloc(HEADER_BYTES);
      b.set(u);
      // Half of them get past the magic, so the later checks are reached.
      if (u[0]! & 1) b.writeUInt32LE(SHM_MAGIC, Hdr.MAGIC);
      return b;
    });
    fuzz('shm header', fc.tuple(header, fc.oneof(fc.constant(objectBytes(CAPACITY)), fc.nat(2 ** 31))), budget(300, 20_000), ([h, len]) =>
      parseChecked(h, len),
    );
  });

  it('parseHeader accepts a sane geometry or throws RingCorruptError, for damaged valid headers', () => {
    fuzz('shm header', edits, budget(500, 40_000), (es) => {
      const h = Buffer.from(valid);
      for (const e of es) h[e.at] = e.v;
      parseChecked(h, objectBytes(CAPACITY));
    });
  });

  it('attach() and reclaim() of an object with any bytes throw only OspsError, never map past its end', () => {
    const object = fc.tuple(fc.nat(3), fc.uint8Array({ maxLength: 64 }), edits).map(([kind, tail, es]) => {
      // A valid prefix + header, damaged; or the same truncated; or just random bytes.
      const full = Buffer.concat([Buffer.alloc(LIB_PREFIX_BYTES), valid, Buffer.alloc(CAPACITY)]);
      full.writeBigUInt64LE(BigInt(objectBytes(CAPACITY)), 0);
      for (const e of es) full[LIB_PREFIX_BYTES + e.at] = e.v;
      if (kind === 0) return full;
      if (kind === 1) return full.subarray(0, LIB_PREFIX_BYTES + (es[0]!.at % (HEADER_BYTES + CAPACITY)));
      if (kind === 2) return Buffer.from(tail);
      return Buffer.concat([full, tail]);
    });
    fuzz('shm header', object, budget(150, 10_000), (bytes) => {
      fs.writeFileSync(`/dev/shm${LOOSE}`, bytes, { mode: 0o600 });
      fs.chmodSync(`/dev/shm${LOOSE}`, 0o600);
      const err = thrownBy(() => ShmRing.attach(LOOSE).detach());
      if (err !== undefined) assert.ok(err instanceof OspsError, String(err));
      const r = ShmRing.reclaim(LOOSE, { force: true });
      assert.equal(r.reclaimed, true);
    });
  });

  it('repairHeader() undoes any damage to the identity fields, and the object attaches again', () => {
    fuzz('shm header', edits, budget(300, 20_000), (es) => {
      const raw = ring.rawBuffer;
      for (const e of es) raw[e.at] = e.v;
      ring.repairHeader();
      assert.deepEqual(ring.damagedHeader(), []);
      const again = ShmRing.attach(NAME);
      assert.equal(again.capacity, CAPACITY);
      assert.equal(again.instance, 'fuzz-header');
      again.detach();
    });
  });
});
