// The key-value state as snapshot parts (SERVICE.md): byte strings of records copied as they
// are stored, so neither a snapshot nor a restore makes a string per key. A part is
//   [format 2] varint(keys in the whole store, so a restore sizes its tables once)
//   varint(records in the part), then each record's varint(keyBytes·2 + notWellFormed) and
//   varint(valueBytes·2 + …), then the records' keys and values laid end to end,
// so a restore copies the records into its pages a run at a time. Restore also takes the
// parts of older versions: format 1 (each record's lengths before its bytes), and JSON
// arrays of [key, value] pairs.
import type { Json, SnapshotPart } from '../../host/service.js';
import { copyBytes } from './copy-bytes.js';
import { KvStore, type RecordView } from './store.js';

const RECORDS = 1;
const PACKED = 2;
/** Records are cut into parts of about this many bytes (a larger record has a part of its own). */
const PART_BYTES = 256 * 1024;
/** The most a record's two length varints take. */
const HEAD_MAX = 10;
/** A part's key count is only a hint: a corrupt one must not allocate gigabytes. */
const MAX_RESERVE = 1 << 24;
/** The most a part's own head takes: format, key count and record count. */
const PART_HEAD = 11;

export function* storeParts(store: KvStore): Generator<Uint8Array> {
  const r: RecordView = { buf: Buffer.alloc(0), at: 0, keyBytes: 0, keyWellFormed: true, valueBytes: 0, valueWellFormed: true };
  // The lengths and the records of the part being made, joined when it is cut.
  const heads = Buffer.allocUnsafe(PART_BYTES);
  let body = Buffer.allocUnsafe(PART_BYTES);
  let h = 0;
  let p = 0;
  let count = 0;
  for (let e = 0; e < store.entryEnd; e++) {
    if (!store.record(e, r)) continue;
    const n = r.keyBytes + r.valueBytes;
    if (count > 0 && PART_HEAD + h + HEAD_MAX + p + n > PART_BYTES) {
      yield packed(store.size, count, heads, h, body, p);
      h = p = count = 0;
    }
    if (n > body.length) body = Buffer.allocUnsafe(n);
    h = writeVarint(heads, h, r.keyBytes * 2 + (r.keyWellFormed ? 0 : 1));
    h = writeVarint(heads, h, r.valueBytes * 2 + (r.valueWellFormed ? 0 : 1));
    copyBytes(r.buf, r.at, body, p, n);
    p += n;
    count++;
  }
  if (count > 0) yield packed(store.size, count, heads, h, body, p);
}

/** One part, in a buffer of its own: the host may keep it while later parts are made. */
function packed(keys: number, count: number, heads: Buffer, h: number, body: Buffer, p: number): Buffer {
  const out = Buffer.allocUnsafe(PART_HEAD + h + p);
  out[0] = PACKED;
  let at = writeVarint(out, 1, keys);
  at = writeVarint(out, at, count);
  at += heads.copy(out, at, 0, h);
  at += body.copy(out, at, 0, p);
  return out.subarray(0, at);
}

export function restoreStore(parts: Iterable<SnapshotPart>): KvStore {
  const store = new KvStore();
  for (const part of parts) {
    if (part instanceof Uint8Array) readPart(store, part);
    else if (Array.isArray(part)) readPairs(store, part);
    else throw new Error('kv snapshot part is neither bytes nor an array of pairs');
  }
  store.settle();
  return store;
}

function readPart(store: KvStore, part: Uint8Array): void {
  const b = Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  if (b[0] !== PACKED && b[0] !== RECORDS) throw new Error(`kv snapshot part has unknown format ${b[0]}`);
  const at = { p: 1 };
  store.reserve(Math.min(readVarint(b, at), MAX_RESERVE));
  if (b[0] === PACKED) readPacked(store, b, at);
  else readRecords(store, b, at);
}

/** Lengths of a packed part's records, reused from part to part. */
let lens = new Uint32Array(0);

function readPacked(store: KvStore, b: Buffer, at: { p: number }): void {
  const count = readVarint(b, at);
  // Each record's lengths take two bytes at least.
  if (count * 2 > b.length - at.p) throw new Error('kv snapshot part has more records than bytes');
  if (lens.length < count * 2) lens = new Uint32Array(count * 2);
  let bytes = 0;
  for (let i = 0; i < count * 2; i++) {
    const n = readVarint(b, at);
    if (n > 0xffffffff) throw new Error('kv snapshot record has a malformed length');
    lens[i] = n;
    bytes += Math.floor(n / 2);
  }
  if (at.p + bytes > b.length) throw new Error('kv snapshot record runs past its part');
  if (at.p + bytes < b.length) throw new Error('kv snapshot part has bytes after its records');
  store.putRun(b, at.p, lens, count);
}

/** Format 1: each record's lengths, then its bytes. */
function readRecords(store: KvStore, b: Buffer, at: { p: number }): void {
  while (at.p < b.length) {
    const k = readVarint(b, at);
    const v = readVarint(b, at);
    const kl = Math.floor(k / 2);
    const vl = Math.floor(v / 2);
    if (at.p + kl + vl > b.length) throw new Error('kv snapshot record runs past its part');
    store.putBytes(b, at.p, kl, k % 2 === 0, at.p + kl, vl, v % 2 === 0);
    at.p += kl + vl;
  }
}

function readPairs(store: KvStore, pairs: Json[]): void {
  for (const e of pairs) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string') throw new Error('kv snapshot pair is malformed');
    store.set(e[0], e[1]);
  }
}

/** LEB128, by arithmetic: lengths reach 2^32 (two times 2^31). */
function writeVarint(b: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    b[p++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  b[p++] = n;
  return p;
}

function readVarint(b: Buffer, at: { p: number }): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    const byte = b[at.p++];
    if (byte === undefined) throw new Error('kv snapshot record is cut short');
    n += (byte & 0x7f) * scale;
    if (byte < 0x80) return n;
    scale *= 0x80;
  }
  throw new Error('kv snapshot record has a malformed length');
}
