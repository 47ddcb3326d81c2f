// The key-value state as snapshot parts (SERVICE.md): byte strings of records copied as they
// are stored, so neither a snapshot nor a restore makes a string per key. A part is
//   [format 1] varint(keys in the whole store, so a restore sizes its tables once)
//   then records: varint(keyBytes·2 + notWellFormed), varint(valueBytes·2 + …), key, value
// Restore also takes the parts of older versions: JSON arrays of [key, value] pairs.
import type { Json, SnapshotPart } from '../../host/service.js';
import { KvStore, type RecordView } from './store.js';

const FORMAT = 1;
/** Records are cut into parts of about this many bytes (a larger record has a part of its own). */
const PART_BYTES = 256 * 1024;
/** The most a record's two length varints take. */
const HEAD_MAX = 10;
/** A part's key count is only a hint: a corrupt one must not allocate gigabytes. */
const MAX_RESERVE = 1 << 24;
/** The most a part's own head takes: format and key count. */
const PART_HEAD = 6;

export function* storeParts(store: KvStore): Generator<Uint8Array> {
  const r: RecordView = { buf: Buffer.alloc(0), at: 0, keyBytes: 0, keyWellFormed: true, valueBytes: 0, valueWellFormed: true };
  let out = Buffer.allocUnsafe(PART_BYTES);
  let p = 0;
  for (let e = 0; e < store.entryEnd; e++) {
    if (!store.record(e, r)) continue;
    const n = r.keyBytes + r.valueBytes;
    if (p > 0 && p + HEAD_MAX + n > out.length) {
      // Each part has a buffer of its own: the host may keep it while later parts are made.
      yield out.subarray(0, p);
      out = Buffer.allocUnsafe(Math.max(PART_BYTES, PART_HEAD + HEAD_MAX + n));
      p = 0;
    }
    if (p === 0) {
      if (out.length < PART_HEAD + HEAD_MAX + n) out = Buffer.allocUnsafe(PART_HEAD + HEAD_MAX + n);
      out[p++] = FORMAT;
      p = writeVarint(out, p, store.size);
    }
    p = writeVarint(out, p, r.keyBytes * 2 + (r.keyWellFormed ? 0 : 1));
    p = writeVarint(out, p, r.valueBytes * 2 + (r.valueWellFormed ? 0 : 1));
    r.buf.copy(out, p, r.at, r.at + n);
    p += n;
  }
  if (p > 0) yield out.subarray(0, p);
}

export function restoreStore(parts: Iterable<SnapshotPart>): KvStore {
  const store = new KvStore();
  for (const part of parts) {
    if (part instanceof Uint8Array) readRecords(store, part);
    else if (Array.isArray(part)) readPairs(store, part);
    else throw new Error('kv snapshot part is neither bytes nor an array of pairs');
  }
  return store;
}

function readRecords(store: KvStore, part: Uint8Array): void {
  const b = Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
  if (b[0] !== FORMAT) throw new Error(`kv snapshot part has unknown format ${b[0]}`);
  const at = { p: 1 };
  store.reserve(Math.min(readVarint(b, at), MAX_RESERVE));
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
