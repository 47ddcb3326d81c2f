// The journal's record framing: u32 length, u32 crc32(payload), payload. The payload's
// first byte says what it is; an older version's records are JSON and start with '{'.
import { crc32, crc32Range } from '../ipc/crc32.js';
import { ENTRY_TAG, JSON_ENTRY_TAG } from '../protocol/replication.js';

export const RECORD_HEADER = 8;

/** An entry, in the bytes the ring carries it. */
export const TAG_ENTRY = ENTRY_TAG; // 'B'
/** An entry in the JSON form of earlier versions (still replayed). */
export const TAG_JSON_ENTRY = JSON_ENTRY_TAG; // 'W'
/** One part of a checkpoint (a host snapshot part). */
export const TAG_PART = 0x50; // 'P'
/** The checkpoint is complete; entries follow. */
export const TAG_END = 0x45; // 'E'
/** A record of the JSON format of earlier versions. */
export const TAG_LEGACY = 0x7b; // '{'

export function encodeRecord(payload: Uint8Array, tag?: number): Buffer {
  const len = payload.length + (tag === undefined ? 0 : 1);
  const out = Buffer.allocUnsafe(RECORD_HEADER + len);
  out.writeUInt32LE(len, 0);
  let at = RECORD_HEADER;
  if (tag !== undefined) out[at++] = tag;
  out.set(payload, at);
  out.writeUInt32LE(crc32(out.subarray(RECORD_HEADER)), 4);
  return out;
}

/** The header of a record whose payload is `payload` as it is (written after it, not copied). */
export function recordHeader(payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(RECORD_HEADER);
  h.writeUInt32LE(payload.length, 0);
  h.writeUInt32LE(crc32(payload), 4);
  return h;
}

export interface RecordAt {
  offset: number;
  body: Buffer;
}

/** Why the bytes at an offset are not a record. */
export type BadRecord = { offset: number; reason: string };

/** The record at `off`, or why there is none. */
export function recordAt(data: Buffer, off: number): RecordAt | BadRecord {
  if (off + RECORD_HEADER > data.length) return { offset: off, reason: 'truncated record header' };
  const len = data.readUInt32LE(off);
  if (len === 0) return { offset: off, reason: 'empty record' };
  if (off + RECORD_HEADER + len > data.length) return { offset: off, reason: `record of ${len} bytes runs past the end of the file` };
  // crc32Range: most records are small entries, hashed faster in JS than by a native call.
  if (crc32Range(data, off + RECORD_HEADER, off + RECORD_HEADER + len) !== data.readUInt32LE(off + 4)) return { offset: off, reason: 'bad CRC' };
  return { offset: off, body: data.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len) };
}

/**
 * The offset of the first complete, CRC-valid record after `from`, or null. Decides whether
 * damage is a torn tail (nothing valid follows: the end of a write that never completed) or
 * corruption with data after it, which must never be cut silently.
 */
export function validRecordAfter(data: Buffer, from: number): number | null {
  for (let off = from + 1; off + RECORD_HEADER < data.length; off++) {
    const len = data.readUInt32LE(off);
    if (len === 0 || off + RECORD_HEADER + len > data.length) continue;
    if (crc32(data.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len)) === data.readUInt32LE(off + 4)) return off;
  }
  return null;
}
