// Frames on the two FIFOs between the servers, and the payloads of ring entries.
// p2s carries doorbells; s2p carries the standby's hello and its acks.
import type { Reply, Request } from './wire.js';

/**
 * One piece of a snapshot streamed in parts (to a new standby, or into a journal checkpoint):
 * `begin` first, then the keys, then the dedup window oldest first.
 */
export type SnapshotPart =
  | { begin: { commitSeq: number } }
  | { kv: [string, string][] }
  | { dedup: [string, Reply][] };

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
      if (typeof o.pid === 'number' && typeof o.token === 'string') return { t: 'hello', pid: o.pid, token: o.token };
    } catch {
      return null;
    }
  }
  return null;
}

/** Ring entry payloads: a write, or one part of a snapshot (the last one says so). */
export type RingPayload =
  | { kind: 'write'; seq: number; req: Request }
  | { kind: 'snapshot'; index: number; last: boolean; part: SnapshotPart };

const WRITE = 0x57; // 'W'
const SNAP = 0x53; // 'S'

export function encodeWrite(seq: number, req: Request): Buffer {
  const body = JSON.stringify(req);
  const b = Buffer.allocUnsafe(9 + Buffer.byteLength(body));
  b[0] = WRITE;
  b.writeDoubleLE(seq, 1);
  b.write(body, 9, 'utf8');
  return b;
}

export function encodeSnapshotPart(index: number, last: boolean, part: SnapshotPart): Buffer {
  const body = JSON.stringify(part);
  const b = Buffer.allocUnsafe(6 + Buffer.byteLength(body));
  b[0] = SNAP;
  b.writeUInt32LE(index, 1);
  b[5] = last ? 1 : 0;
  b.write(body, 6, 'utf8');
  return b;
}

/** Ring payloads of a snapshot, encoded one part at a time as the ring takes them. */
export function* snapshotPayloads(parts: Iterator<SnapshotPart>): Generator<{ payload: Buffer; last: boolean }> {
  let cur = parts.next();
  for (let index = 0; !cur.done; index++) {
    const next = parts.next();
    const last = next.done === true;
    yield { payload: encodeSnapshotPart(index, last, cur.value), last };
    cur = next;
  }
}

/** Throws on anything malformed: the caller treats that like ring corruption. */
export function decodeRingPayload(b: Uint8Array): RingPayload {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length >= 9 && buf[0] === WRITE) {
    const seq = buf.readDoubleLE(1);
    const req = JSON.parse(buf.toString('utf8', 9)) as Request;
    return { kind: 'write', seq, req };
  }
  if (buf.length >= 6 && buf[0] === SNAP) {
    const part = JSON.parse(buf.toString('utf8', 6)) as SnapshotPart;
    return { kind: 'snapshot', index: buf.readUInt32LE(1), last: buf[5] === 1, part };
  }
  throw new Error(`unknown ring payload kind 0x${(buf[0] ?? 0).toString(16)}`);
}
