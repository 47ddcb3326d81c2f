// The encoding of a host snapshot's parts: a tag byte, then JSON text or raw bytes. The ring
// and the journal carry each part as one opaque byte string and never look inside.
import type { Json } from '../protocol/wire.js';
import type { SnapshotPart } from './service.js';
import type { PendingTimer } from './timers.js';

export const HEADER = 0x68; // 'h'
export const JSON_PART = 0x6a; // 'j'
/** A service part that is a Uint8Array: its bytes as they are, no JSON, no base64. */
export const BYTES_PART = 0x62; // 'b'
/** Dedup window entries as JSON (older versions)… */
export const DEDUP_PART = 0x64; // 'd'
/** …and in the window's byte form (DedupWindow.exportFrom). */
export const DEDUP_BYTES_PART = 0x44; // 'D'

export interface Header {
  v: 1;
  seq: number;
  now: number;
  form: 'image' | 'parts';
  service: string;
  /** Pending timers at `seq` (absent in snapshots of older versions: none). */
  timers?: PendingTimer[];
}

export function tagged(tag: number, body: string | Uint8Array): Buffer {
  if (typeof body === 'string') {
    const b = Buffer.allocUnsafe(1 + Buffer.byteLength(body));
    b[0] = tag;
    b.write(body, 1, 'utf8');
    return b;
  }
  const b = Buffer.allocUnsafe(1 + body.length);
  b[0] = tag;
  b.set(body, 1);
  return b;
}

export function bodyOf(p: Uint8Array): Buffer {
  return Buffer.from(p.buffer, p.byteOffset + 1, p.byteLength - 1);
}

export function isServicePart(p: Uint8Array): boolean {
  return p[0] === JSON_PART || p[0] === BYTES_PART;
}

/** A service part as the service gave it: bytes (a view, not a copy) or a JSON value. */
export function decodePart(p: Uint8Array): SnapshotPart {
  const body = bodyOf(p);
  return p[0] === BYTES_PART ? body : (JSON.parse(body.toString('utf8')) as Json);
}

export function parseHeader(p: Uint8Array): Header {
  if (p[0] !== HEADER) throw new Error('snapshot does not start with its header');
  const h = JSON.parse(bodyOf(p).toString('utf8')) as Partial<Header>;
  if (h.v !== 1 || !Number.isSafeInteger(h.seq) || typeof h.now !== 'number' || (h.form !== 'image' && h.form !== 'parts')) {
    throw new Error('snapshot header is malformed');
  }
  return h as Header;
}
