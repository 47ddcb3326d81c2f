// Frames on the two FIFOs between the servers, and the payloads of ring entries.
// p2s carries doorbells; s2p carries the standby's hello and its acks.
import { isWellFormed } from './well-formed.js';
import type { Json } from './wire.js';

/**
 * One command as the host replicates and journals it: what the service is asked to do,
 * nothing of what the service is. `digest` fingerprints op and args, so a request id
 * reused for different content is told apart from a retry.
 */
export interface Command {
  id: string;
  op: string;
  args: Json;
  digest: string;
}

/** A command with its place in the log and the time the primary gave it (`ctx.now`). */
export interface Entry extends Command {
  seq: number;
  at: number;
}

export type LinkMessage =
  | { t: 'doorbell'; upTo: number }
  | { t: 'ack'; upTo: number }
  | { t: 'hello'; pid: number; token: string };

const DOORBELL = 0x44; // 'D'
const ACK = 0x41; // 'A'
const HELLO = 0x48; // 'H'

export function encodeLink(m: LinkMessage): Buffer {
  if (m.t === 'hello') {
    const body = Buffer.from(JSON.stringify({ pid: m.pid, token: m.token }));
    return Buffer.concat([Buffer.from([HELLO]), body]);
  }
  const b = Buffer.allocUnsafe(9);
  b[0] = m.t === 'doorbell' ? DOORBELL : ACK;
  b.writeDoubleLE(m.upTo, 1);
  return b;
}

export function decodeLink(b: Buffer): LinkMessage | null {
  if (b.length === 9 && (b[0] === DOORBELL || b[0] === ACK)) {
    const upTo = b.readDoubleLE(1);
    if (!Number.isSafeInteger(upTo) || upTo < 0) return null;
    return { t: b[0] === DOORBELL ? 'doorbell' : 'ack', upTo };
  }
  if (b.length > 1 && b[0] === HELLO) {
    try {
      const o = JSON.parse(b.subarray(1).toString('utf8')) as { pid?: unknown; token?: unknown };
      // The primary records this pid as its peer's: only a process id is one.
      if (Number.isSafeInteger(o.pid) && (o.pid as number) > 0 && typeof o.token === 'string') return { t: 'hello', pid: o.pid as number, token: o.token };
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Ring entry payloads: an entry, or a chunk of a snapshot. A snapshot is a sequence of
 * opaque parts (the host's encoding); each part travels as one or more chunks, so a part of
 * any size fits a ring whatever the ids, replies or service state in it.
 */
export type RingPayload =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'snapshot'; index: number; endOfPart: boolean; last: boolean; bytes: Uint8Array };

/**
 * First byte of an entry payload; the journal stores entries with the same bytes. Entries are
 * written binary; the JSON form of earlier versions is still read (their journals replay).
 */
export const ENTRY_TAG = 0x42; // 'B'
/** The JSON entry of earlier versions: header, then `{"i","o","d","a"}`. */
export const JSON_ENTRY_TAG = 0x57; // 'W'
const SNAP = 0x53; // 'S'
/** Tag, seq (f64), at (f64): the same in both entry forms. */
const ENTRY_HEADER = 17;
const SNAP_HEADER = 6;
const END_OF_PART = 1;
const LAST = 2;
/** Id, op and digest are each a u16 byte length and UTF-8 bytes. */
const MAX_FIELD_BYTES = 0xffff;

/** True for the first byte of either entry form. */
export function isEntryTag(tag: number | undefined): boolean {
  return tag === ENTRY_TAG || tag === JSON_ENTRY_TAG;
}

/**
 * An entry, binary: header, then id, op and digest (each a u16 length and UTF-8), then the
 * arguments' JSON to the end. Generic: any service's (id, op, args); only the arguments are
 * JSON, so the standby parses nothing else. `argsJson` is `JSON.stringify(args)` when the
 * caller has it already (it digested it).
 */
export function encodeEntry(e: Entry, argsJson = JSON.stringify(e.args)): Buffer {
  // UTF-8 cannot carry a lone surrogate (JSON escapes it): such an id keeps the JSON form.
  if (!(isWellFormed(e.id) && isWellFormed(e.op) && isWellFormed(e.digest))) return encodeJsonEntry(e, argsJson);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: room enough, cut to size below.
  const argsRoom = argsJson.length > 1024 ? Buffer.byteLength(argsJson) : 3 * argsJson.length;
  const room = ENTRY_HEADER + 6 + 3 * (e.id.length + e.op.length + e.digest.length) + argsRoom;
  const b = Buffer.allocUnsafe(room);
  b[0] = ENTRY_TAG;
  b.writeDoubleLE(e.seq, 1);
  b.writeDoubleLE(e.at, 9);
  let at = writeField(b, ENTRY_HEADER, e.id);
  at = writeField(b, at, e.op);
  at = writeField(b, at, e.digest);
  at += b.write(argsJson, at, 'utf8');
  return at === room ? b : b.subarray(0, at);
}

/** The JSON form of earlier versions. */
export function encodeJsonEntry(e: Entry, argsJson = JSON.stringify(e.args)): Buffer {
  const body = `{"i":${JSON.stringify(e.id)},"o":${JSON.stringify(e.op)},"d":${JSON.stringify(e.digest)},"a":${argsJson}}`;
  const b = Buffer.allocUnsafe(ENTRY_HEADER + Buffer.byteLength(body));
  b[0] = JSON_ENTRY_TAG;
  b.writeDoubleLE(e.seq, 1);
  b.writeDoubleLE(e.at, 9);
  b.write(body, ENTRY_HEADER, 'utf8');
  return b;
}


function writeField(b: Buffer, at: number, s: string): number {
  const n = b.write(s, at + 2, 'utf8');
  if (n > MAX_FIELD_BYTES) throw new Error(`entry field of ${n} bytes`);
  b.writeUInt16LE(n, at);
  return at + 2 + n;
}

/** Throws on anything malformed. */
export function decodeEntry(b: Uint8Array): Entry {
  // A journal replay decodes a million of these: no copy of a Buffer, no closure.
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < ENTRY_HEADER || !isEntryTag(buf[0])) throw new Error('not an entry');
  const seq = buf.readDoubleLE(1);
  const at = buf.readDoubleLE(9);
  if (!Number.isSafeInteger(seq) || !Number.isFinite(at)) throw new Error('malformed entry');
  if (buf[0] === JSON_ENTRY_TAG) return decodeJsonEntry(buf, seq, at);
  const idEnd = fieldEnd(buf, ENTRY_HEADER);
  const opEnd = fieldEnd(buf, idEnd);
  const digestEnd = fieldEnd(buf, opEnd);
  return {
    seq,
    at,
    id: buf.toString('utf8', ENTRY_HEADER + 2, idEnd),
    op: buf.toString('utf8', idEnd + 2, opEnd),
    digest: buf.toString('utf8', opEnd + 2, digestEnd),
    args: JSON.parse(buf.toString('utf8', digestEnd)) as Json,
  };
}

/** Where the field (u16 length, then its bytes) at `off` ends. */
function fieldEnd(buf: Buffer, off: number): number {
  if (off + 2 > buf.length) throw new Error('malformed entry');
  const end = off + 2 + buf.readUInt16LE(off);
  if (end > buf.length) throw new Error('malformed entry');
  return end;
}

function decodeJsonEntry(buf: Buffer, seq: number, at: number): Entry {
  const o = JSON.parse(buf.toString('utf8', ENTRY_HEADER)) as { i?: unknown; o?: unknown; d?: unknown; a?: Json } | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('malformed entry');
  if (typeof o.i !== 'string' || typeof o.o !== 'string' || typeof o.d !== 'string' || o.a === undefined) throw new Error('malformed entry');
  return { seq, at, id: o.i, op: o.o, digest: o.d, args: o.a };
}

export function encodeSnapshotChunk(index: number, bytes: Uint8Array, endOfPart: boolean, last: boolean): Buffer {
  const b = Buffer.allocUnsafe(SNAP_HEADER + bytes.length);
  b[0] = SNAP;
  b.writeUInt32LE(index, 1);
  b[5] = (endOfPart ? END_OF_PART : 0) | (last ? LAST : 0);
  b.set(bytes, SNAP_HEADER);
  return b;
}

/** Room for a part's bytes in a ring payload of `maxPayload` bytes. */
export function snapshotChunkRoom(maxPayload: number): number {
  return maxPayload - SNAP_HEADER;
}

/** Throws on anything malformed: the caller treats that like ring corruption. */
export function decodeRingPayload(b: Uint8Array): RingPayload {
  if (b.length >= ENTRY_HEADER && isEntryTag(b[0])) return { kind: 'entry', entry: decodeEntry(b) };
  if (b.length >= SNAP_HEADER && b[0] === SNAP) {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const flags = buf[5] as number;
    return { kind: 'snapshot', index: buf.readUInt32LE(1), endOfPart: (flags & END_OF_PART) !== 0, last: (flags & LAST) !== 0, bytes: buf.subarray(SNAP_HEADER) };
  }
  throw new Error(`unknown ring payload kind 0x${(b[0] ?? 0).toString(16)}`);
}
