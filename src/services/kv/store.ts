// The key-value service's state: string keys and values held as bytes, a few dozen bytes a
// key, where a Map of JS strings costs a few hundred. Reads like a Map (get, has, size,
// entries in insertion order); iteration order is the Map's (a new key goes last, a
// rewritten one keeps its place), so it never depends on the layout, and a copy restored
// from a snapshot iterates, snapshots and digests exactly like the original.
//
// Layout: an entry table (four u32 per key: record loc, key hash, key and value byte
// lengths), the records' bytes in a Slab, and an open-addressing index of entry numbers
// (linear probing, deletion by backward shift, so no tombstones).
import { randomBytes } from 'node:crypto';
import { copyBytes } from './copy-bytes.js';
import { hashBytes } from './hash.js';
import { buildIndex, type EntryTable } from './index-build.js';
import { NO_LOC, Slab } from './slab.js';
import { isWellFormed, readString, writeString } from './wtf8.js';

export interface StoreOptions {
  /** Page size of the slab, as a power of two (default 20: 1 MiB). */
  pageBits?: number;
  /** Kept bits of every key hash (tests narrow it to force collisions). */
  hashMask?: number;
  /** Deleted entries tolerated before the table is renumbered (also at least half the live ones). */
  minHoles?: number;
}

/** One record's bytes, as the snapshot codec reads them. */
export interface RecordView {
  buf: Buffer;
  at: number;
  keyBytes: number;
  keyWellFormed: boolean;
  valueBytes: number;
  valueWellFormed: boolean;
}

// Entry fields, four u32 per entry.
const LOC = 0;
const HASH = 1;
const KLEN = 2;
const VLEN = 3;
/** In KLEN / VLEN: the string is not well formed (stored as WTF-8). */
const ILL = 0x80000000;
const LEN = 0x7fffffff;
const MIN_ENTRIES = 64;
const MIN_SLOTS = 128;
/** The index doubles past this load; rebuilt, it is sized for half of it. */
const MAX_LOAD = 0.7;
const GROWTH = 1.5;

export class KvStore {
  private ent = new Uint32Array(MIN_ENTRIES * 4);
  /** Entries in use, live or deleted (the next key gets this number). */
  private end = 0;
  private live = 0;
  private holes = 0;
  /** Entries at the end of the table that putRun added and the index does not have yet. */
  private unindexed = 0;
  private slots = new Uint32Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private readonly slab: Slab;
  /** A key's bytes while it is looked up. */
  private scratch = Buffer.allocUnsafeSlow(1024);
  private scratchWellFormed = true;
  // A seed of our own: the index layout is never observable, and keys chosen to collide cannot be precomputed.
  private readonly seed = randomBytes(4).readUInt32LE(0);
  private readonly hashMask: number;
  private readonly minHoles: number;

  constructor(o: StoreOptions = {}) {
    this.slab = new Slab(o.pageBits ?? 20);
    this.hashMask = o.hashMask ?? 0xffffffff;
    this.minHoles = o.minHoles ?? 1024;
  }

  get size(): number {
    this.settle();
    return this.live;
  }

  get(key: string): string | undefined {
    this.settle();
    const i = this.find(key);
    return i < 0 ? undefined : this.valueAt(this.slots[i]! - 1);
  }

  has(key: string): boolean {
    this.settle();
    return this.find(key) >= 0;
  }

  set(key: string, value: string): this {
    this.settle();
    const kl = this.toScratch(key);
    const vWell = isWellFormed(value);
    this.put(this.scratch, 0, kl, this.scratchWellFormed, value, null, 0, Buffer.byteLength(value, 'utf8'), vWell);
    return this;
  }

  /** Sets a key from its stored bytes (a snapshot's record): no string is made. */
  putBytes(src: Buffer, keyAt: number, keyBytes: number, keyWellFormed: boolean, valueAt: number, valueBytes: number, valueWellFormed: boolean): void {
    this.settle();
    this.put(src, keyAt, keyBytes, keyWellFormed, null, src, valueAt, valueBytes, valueWellFormed);
  }

  /**
   * Adds `count` records laid end to end in `src` from `at`, each its key's bytes then its
   * value's (a snapshot's): runs of them are copied into the slab at once, and their entries
   * are written in order. The index takes them in one go at the next lookup (a restore's
   * parts all come first), where a key given twice keeps its first place and its last value,
   * as `set` would. `lens` holds two numbers per record, the key's then the value's: its byte
   * length times two, plus one if the string is not well formed.
   */
  putRun(src: Buffer, at: number, lens: Uint32Array, count: number): void {
    const slab = this.slab;
    let room = this.ent.length >>> 2;
    while (this.end + count > room) room = Math.ceil(room * GROWTH);
    if (room !== this.ent.length >>> 2) this.growEntries(room);
    for (let i = 0; i < count; ) {
      // The records from i that go into the current page (or a new one) together.
      const first = (lens[2 * i]! >>> 1) + (lens[2 * i + 1]! >>> 1);
      const limit = first <= slab.pageRoom ? slab.pageRoom : slab.pageBytes;
      let j = i;
      let n = 0;
      for (; j < count; j++) {
        const r = (lens[2 * j]! >>> 1) + (lens[2 * j + 1]! >>> 1);
        if (r > slab.smallMax || n + r > limit) break;
        n += r;
      }
      let loc: number;
      if (j === i) {
        // A large record: a buffer of its own.
        loc = slab.alloc(first);
        src.copy(slab.buf(loc), slab.off(loc), at, at + first);
        n = first;
        j = i + 1;
      } else {
        loc = slab.place(src, at, n);
      }
      this.enter(slab.buf(loc), slab.off(loc), loc, lens, i, j);
      at += n;
      i = j;
    }
    if (slab.wasteful) this.compactSlab();
  }

  /** Entries for records i to j of a run, placed at `loc` (`buf` from `off`), not yet in the index. */
  private enter(buf: Buffer, off: number, loc: number, lens: Uint32Array, i: number, j: number): void {
    const ent = this.ent;
    const seed = this.seed;
    const hashMask = this.hashMask;
    let b = this.end << 2;
    for (let q = i; q < j; q++, b += 4) {
      const k = lens[2 * q]!;
      const v = lens[2 * q + 1]!;
      const kl = k >>> 1;
      ent[b + LOC] = loc;
      ent[b + HASH] = (hashBytes(buf, off, kl, seed) & hashMask) >>> 0;
      ent[b + KLEN] = (k & 1) === 0 ? kl : (kl | ILL) >>> 0;
      ent[b + VLEN] = (v & 1) === 0 ? v >>> 1 : ((v >>> 1) | ILL) >>> 0;
      const r = kl + (v >>> 1);
      loc += r;
      off += r;
    }
    this.end += j - i;
    this.live += j - i;
    this.unindexed += j - i;
  }

  /** Puts the entries putRun added into the index now (every lookup and change does it first otherwise). */
  settle(): void {
    if (this.unindexed === 0) return;
    this.unindexed = 0;
    let cap = this.slots.length;
    while (this.live > cap * MAX_LOAD) cap *= 2;
    this.slots = buildIndex(this.table(), cap, (a, b) => this.sameKey(a, b), (earlier, later) => this.twice(earlier, later));
    this.mask = cap - 1;
    const ent = this.ent;
    while (this.end > 0 && ent[((this.end - 1) << 2) + LOC] === NO_LOC) {
      this.end--;
      this.holes--;
    }
  }

  private table(): EntryTable {
    return { ent: this.ent, end: this.end, locField: LOC, hashField: HASH, noLoc: NO_LOC };
  }

  private sameKey(a: number, b: number): boolean {
    const ent = this.ent;
    const kl = ent[(a << 2) + KLEN]!;
    if (ent[(b << 2) + KLEN] !== kl) return false;
    const loc = ent[(b << 2) + LOC]!;
    return this.keyIs(ent[(a << 2) + LOC]!, this.slab.buf(loc), this.slab.off(loc), kl & LEN);
  }

  /** Entry `later` of putRun has the key of `earlier`: its value goes there, and it becomes a hole. */
  private twice(earlier: number, later: number): void {
    const ent = this.ent;
    const a = earlier << 2;
    const b = later << 2;
    this.slab.free(ent[a + LOC]!, (ent[a + KLEN]! & LEN) + (ent[a + VLEN]! & LEN));
    ent[a + LOC] = ent[b + LOC]!;
    ent[a + VLEN] = ent[b + VLEN]!;
    ent[b + LOC] = NO_LOC;
    this.live--;
    this.holes++;
  }

  delete(key: string): boolean {
    this.settle();
    const i = this.find(key);
    if (i < 0) return false;
    const e = this.slots[i]! - 1;
    this.unslot(i);
    const b = e << 2;
    const ent = this.ent;
    this.slab.free(ent[b + LOC]!, (ent[b + KLEN]! & LEN) + (ent[b + VLEN]! & LEN));
    ent[b + LOC] = NO_LOC;
    this.live--;
    this.holes++;
    // Deleted entries at the end are given back at once: the next key takes their place.
    while (this.end > 0 && ent[((this.end - 1) << 2) + LOC] === NO_LOC) {
      this.end--;
      this.holes--;
    }
    if (this.holes > Math.max(this.live >>> 1, this.minHoles)) this.renumber();
    if (this.slab.wasteful) this.compactSlab();
    return true;
  }

  *entries(): IterableIterator<[string, string]> {
    this.settle();
    for (let e = 0; e < this.end; e++) if (this.ent[(e << 2) + LOC] !== NO_LOC) yield [this.keyAt(e), this.valueAt(e)];
  }

  *keys(): IterableIterator<string> {
    this.settle();
    for (let e = 0; e < this.end; e++) if (this.ent[(e << 2) + LOC] !== NO_LOC) yield this.keyAt(e);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** Makes room for `keys` keys in all (a restore that knows its count grows nothing on the way). */
  reserve(keys: number): void {
    if (keys > this.ent.length >>> 2) this.growEntries(keys);
    // The index is sized when putRun's entries go in.
    if (this.unindexed > 0) return;
    let cap = this.slots.length;
    while (keys > cap * MAX_LOAD) cap *= 2;
    if (cap !== this.slots.length) this.rebuildIndex(cap);
  }

  /** Entry numbers run from 0 to this (exclusive), in iteration order; `record` skips deleted ones. */
  get entryEnd(): number {
    this.settle();
    return this.end;
  }

  /** Fills `out` with entry `e`'s bytes; false for a deleted entry. Valid until the next change. */
  record(e: number, out: RecordView): boolean {
    this.settle();
    const b = e << 2;
    const loc = this.ent[b + LOC]!;
    if (loc === NO_LOC) return false;
    const kl = this.ent[b + KLEN]!;
    const vl = this.ent[b + VLEN]!;
    out.buf = this.slab.buf(loc);
    out.at = this.slab.off(loc);
    out.keyBytes = kl & LEN;
    out.keyWellFormed = (kl & ILL) === 0;
    out.valueBytes = vl & LEN;
    out.valueWellFormed = (vl & ILL) === 0;
    return true;
  }

  /** Bytes held, by structure. */
  memory(): { entries: number; index: number; records: number; free: number } {
    this.settle();
    return { entries: this.ent.byteLength, index: this.slots.byteLength, records: this.slab.bytes, free: this.slab.garbage };
  }

  private toScratch(key: string): number {
    if (this.scratch.length < key.length * 3) this.scratch = Buffer.allocUnsafeSlow(key.length * 3);
    this.scratchWellFormed = isWellFormed(key);
    return writeString(key, this.scratch, 0, this.scratchWellFormed);
  }

  /** The slot of `key`, or a negative number. */
  private find(key: string): number {
    const kl = this.toScratch(key);
    return this.probe(this.scratch, 0, kl, this.hash(this.scratch, 0, kl));
  }

  private hash(src: Buffer, at: number, n: number): number {
    return (hashBytes(src, at, n, this.seed) & this.hashMask) >>> 0;
  }

  /** The slot holding the key `src[at, at + kl)`, or ~(the empty slot where it would go). */
  private probe(src: Buffer, at: number, kl: number, h: number): number {
    const slots = this.slots;
    const ent = this.ent;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = slots[i]!;
      if (v === 0) return ~i;
      const b = (v - 1) << 2;
      if (ent[b + HASH] === h && (ent[b + KLEN]! & LEN) === kl && this.keyIs(ent[b + LOC]!, src, at, kl)) return i;
    }
  }

  private keyIs(loc: number, src: Buffer, at: number, kl: number): boolean {
    const buf = this.slab.buf(loc);
    const p = this.slab.off(loc);
    if (kl > 32) return buf.compare(src, at, at + kl, p, p + kl) === 0;
    for (let i = 0; i < kl; i++) if (buf[p + i] !== src[at + i]) return false;
    return true;
  }

  private put(ksrc: Buffer, kat: number, kl: number, kWell: boolean, vstr: string | null, vsrc: Buffer | null, vat: number, vl: number, vWell: boolean): void {
    const h = this.hash(ksrc, kat, kl);
    const i = this.probe(ksrc, kat, kl, h);
    const vlen = vWell ? vl : (vl | ILL) >>> 0;
    if (i >= 0) {
      const e = this.slots[i]! - 1;
      this.rewrite(e, kl, vstr, vsrc, vat, vl, vWell);
      this.ent[(e << 2) + VLEN] = vlen;
      if (this.slab.wasteful) this.compactSlab();
      return;
    }
    // A new key: its record first (the one step that may refuse), then its entry and slot.
    const loc = this.writeRecord(ksrc, kat, kl, vstr, vsrc, vat, vl, vWell);
    const slots = this.slots;
    if (this.end === this.ent.length >>> 2) {
      if (this.holes > this.end >>> 2) this.renumber();
      else this.growEntries();
    }
    if (this.live + 1 > this.slots.length * MAX_LOAD) this.rebuildIndex(this.slots.length * 2);
    const slot = this.slots === slots ? ~i : ~this.probe(ksrc, kat, kl, h);
    const e = this.end++;
    const b = e << 2;
    this.ent[b + LOC] = loc;
    this.ent[b + HASH] = h;
    this.ent[b + KLEN] = kWell ? kl : (kl | ILL) >>> 0;
    this.ent[b + VLEN] = vlen;
    this.slots[slot] = e + 1;
    this.live++;
  }

  /** Entry `e` gets a new value: in place when its record has room, else in a new record. */
  private rewrite(e: number, kl: number, vstr: string | null, vsrc: Buffer | null, vat: number, vl: number, vWell: boolean): void {
    const b = e << 2;
    const loc = this.ent[b + LOC]!;
    const had = kl + (this.ent[b + VLEN]! & LEN);
    const n = kl + vl;
    if (this.slab.canReuse(loc, had, n)) {
      writeValue(this.slab.buf(loc), this.slab.off(loc) + kl, vstr, vsrc, vat, vl, vWell);
      if (n < had) this.slab.shrunk(loc, had, n);
      return;
    }
    // The key is copied from the old record, which stays readable (even if compaction moves it).
    const fresh = this.writeRecord(this.slab.buf(loc), this.slab.off(loc), kl, vstr, vsrc, vat, vl, vWell);
    const old = this.ent[b + LOC]!;
    this.ent[b + LOC] = fresh;
    this.slab.free(old, had);
  }

  private writeRecord(ksrc: Buffer, kat: number, kl: number, vstr: string | null, vsrc: Buffer | null, vat: number, vl: number, vWell: boolean): number {
    if (!this.slab.fits(kl + vl) && this.slab.garbage > 0) this.compactSlab();
    const loc = this.slab.alloc(kl + vl);
    const buf = this.slab.buf(loc);
    const at = this.slab.off(loc);
    // A snapshot's record has its value right after its key: one copy.
    if (vsrc === ksrc && vat === kat + kl) {
      copyBytes(ksrc, kat, buf, at, kl + vl);
      return loc;
    }
    copyBytes(ksrc, kat, buf, at, kl);
    writeValue(buf, at + kl, vstr, vsrc, vat, vl, vWell);
    return loc;
  }

  private keyAt(e: number): string {
    const b = e << 2;
    const loc = this.ent[b + LOC]!;
    const kl = this.ent[b + KLEN]!;
    const at = this.slab.off(loc);
    return readString(this.slab.buf(loc), at, at + (kl & LEN), (kl & ILL) === 0);
  }

  private valueAt(e: number): string {
    const b = e << 2;
    const loc = this.ent[b + LOC]!;
    const at = this.slab.off(loc) + (this.ent[b + KLEN]! & LEN);
    const vl = this.ent[b + VLEN]!;
    return readString(this.slab.buf(loc), at, at + (vl & LEN), (vl & ILL) === 0);
  }

  /** Removes slot `i` from its probe run, shifting later members of the run back. */
  private unslot(i: number): void {
    const slots = this.slots;
    const mask = this.mask;
    for (let j = i; ; ) {
      j = (j + 1) & mask;
      const v = slots[j]!;
      if (v === 0) break;
      const home = this.ent[((v - 1) << 2) + HASH]! & mask;
      // v stays unless its home slot is cyclically outside (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      slots[i] = v;
      i = j;
    }
    slots[i] = 0;
  }

  private growEntries(entries = Math.ceil((this.ent.length >>> 2) * GROWTH)): void {
    const bigger = new Uint32Array(entries * 4);
    bigger.set(this.ent);
    this.ent = bigger;
  }

  /** Closes the gaps deleted entries left, keeping the order; the index is rebuilt. */
  private renumber(): void {
    const ent = this.ent;
    let j = 0;
    for (let e = 0; e < this.end; e++) {
      const b = e << 2;
      if (ent[b + LOC] === NO_LOC) continue;
      if (j !== e) ent.copyWithin(j << 2, b, b + 4);
      j++;
    }
    this.end = j;
    this.holes = 0;
    // Give memory back after mass deletion.
    const want = Math.max(MIN_ENTRIES, Math.ceil(j * GROWTH));
    if (want * 2 < ent.length >>> 2) this.ent = ent.slice(0, want * 4);
    let cap = MIN_SLOTS;
    while (cap * (MAX_LOAD / 2) < j) cap *= 2;
    this.rebuildIndex(cap);
  }

  private rebuildIndex(cap: number): void {
    this.slots = buildIndex(this.table(), cap);
    this.mask = cap - 1;
  }

  private compactSlab(): void {
    const ent = this.ent;
    this.slab.compact((move) => {
      for (let e = 0; e < this.end; e++) {
        const b = e << 2;
        const loc = ent[b + LOC]!;
        if (loc !== NO_LOC) ent[b + LOC] = move(loc, (ent[b + KLEN]! & LEN) + (ent[b + VLEN]! & LEN));
      }
    });
  }
}

function writeValue(buf: Buffer, at: number, vstr: string | null, vsrc: Buffer | null, vat: number, vl: number, vWell: boolean): void {
  if (vstr !== null) writeString(vstr, buf, at, vWell);
  else copyBytes(vsrc as Buffer, vat, buf, at, vl);
}
