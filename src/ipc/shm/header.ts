/**
 * The shm header: the live words' typed-array indexes, the identity fields written once at
 * creation (checked on attach, compared and rewritten by repair), and the parser that
 * validates a header before anything trusts its geometry.
 */
import os from 'node:os';
import { RingCorruptError } from '../../errors.js';
import { HEADER_BYTES, Hdr, LAYOUT_VERSION, MAX_INSTANCE_BYTES, SHM_MAGIC, isValidCapacity, objectBytes } from '../shm-layout.js';
import type { Mapping } from './mapping.js';

// Typed-array indexes of the live header words (byte offset / element size).
export const HEAD_IDX = Hdr.HEAD >> 2;
export const TAIL_IDX = Hdr.TAIL >> 2;
export const EPOCH_IDX = Hdr.EPOCH >> 2;
export const GEN_IDX = Hdr.GENERATION >> 2;
export const WRITE_SEQ_IDX = Hdr.WRITE_SEQ >> 3;
export const COMMIT_SEQ_IDX = Hdr.COMMIT_SEQ >> 3;
export const ACK_SEQ_IDX = Hdr.ACK_SEQ >> 3;
export const HEARTBEAT_IDX = Hdr.HEARTBEATS >> 3;
export const AWAKE_IDX = Hdr.READER_AWAKE >> 2;
export const APPLYING_IDX = Hdr.APPLYING >> 2;

/** The reader-awake word's value while a reader of ring generation `gen` drains (never 0). */
export function awakeToken(gen: number): number {
  return (gen + 1) | 0 || 1;
}

export interface HeaderInfo {
  capacity: number;
  creatorPid: number;
  creatorStart: number;
  instance: string;
}

/** The header fields that never change after creation and that attach() checks. */
export const IDENTITY_FIELDS = ['version', 'header size', 'capacity', 'instance', 'magic'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** Identity fields of the header that differ from what they were created as. */
export function damagedIdentity(m: Mapping, capacity: number, instance: Buffer): IdentityField[] {
  const hv = new DataView(m.buf.buffer, m.buf.byteOffset, HEADER_BYTES);
  const le = os.endianness() === 'LE';
  const bad: IdentityField[] = [];
  if (hv.getUint32(Hdr.VERSION, le) !== LAYOUT_VERSION) bad.push('version');
  if (hv.getUint32(Hdr.HEADER_SIZE, le) !== HEADER_BYTES) bad.push('header size');
  if (hv.getUint32(Hdr.CAPACITY, le) !== capacity) bad.push('capacity');
  const len = hv.getUint16(Hdr.INSTANCE_LEN, le);
  if (len !== instance.length || !m.buf.subarray(Hdr.INSTANCE, Hdr.INSTANCE + len).equals(instance)) bad.push('instance');
  if (Atomics.load(m.u32, Hdr.MAGIC >> 2) !== SHM_MAGIC) bad.push('magic');
  return bad;
}

/** Writes the given identity fields; the magic, if among them, last. */
export function writeIdentity(m: Mapping, capacity: number, instance: Buffer, fields: readonly IdentityField[]): void {
  const hv = new DataView(m.buf.buffer, m.buf.byteOffset, HEADER_BYTES);
  const le = os.endianness() === 'LE';
  if (fields.includes('version')) hv.setUint32(Hdr.VERSION, LAYOUT_VERSION, le);
  if (fields.includes('header size')) hv.setUint32(Hdr.HEADER_SIZE, HEADER_BYTES, le);
  if (fields.includes('capacity')) hv.setUint32(Hdr.CAPACITY, capacity, le);
  if (fields.includes('instance')) {
    hv.setUint16(Hdr.INSTANCE_LEN, instance.length, le);
    m.buf.fill(0, Hdr.INSTANCE, Hdr.INSTANCE + MAX_INSTANCE_BYTES);
    m.buf.set(instance, Hdr.INSTANCE);
  }
  if (fields.includes('magic')) Atomics.store(m.u32, Hdr.MAGIC >> 2, SHM_MAGIC);
}

/** Checks magic, version and geometry of a header; `objectLen` is the object's Buffer length. */
export function parseHeader(name: string, h: Uint8Array, objectLen: number): HeaderInfo {
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const le = os.endianness() === 'LE';
  const magic = dv.getUint32(Hdr.MAGIC, le);
  if (magic !== SHM_MAGIC) {
    throw new RingCorruptError('magic', `${name}: bad header magic 0x${magic.toString(16)}`, { name, magic });
  }
  const version = dv.getUint32(Hdr.VERSION, le);
  if (version !== LAYOUT_VERSION) {
    throw new RingCorruptError('version', `${name}: layout version ${version}, this build speaks ${LAYOUT_VERSION}`, {
      name,
      version,
    });
  }
  const headerSize = dv.getUint32(Hdr.HEADER_SIZE, le);
  const capacity = dv.getUint32(Hdr.CAPACITY, le);
  if (headerSize !== HEADER_BYTES || !isValidCapacity(capacity) || objectLen !== objectBytes(capacity)) {
    throw new RingCorruptError('bounds', `${name}: header geometry does not match the object`, {
      name,
      headerSize,
      capacity,
      objectLen,
    });
  }
  const nameLen = dv.getUint16(Hdr.INSTANCE_LEN, le);
  if (nameLen > MAX_INSTANCE_BYTES) {
    throw new RingCorruptError('bounds', `${name}: instance name length ${nameLen} > ${MAX_INSTANCE_BYTES}`, { name });
  }
  return {
    capacity,
    creatorPid: dv.getInt32(Hdr.CREATOR_PID, le),
    creatorStart: dv.getFloat64(Hdr.CREATOR_START, le),
    instance: Buffer.from(h.buffer, h.byteOffset + Hdr.INSTANCE, nameLen).toString('utf8'),
  };
}
