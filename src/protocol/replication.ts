// Frames on the two FIFOs between the servers, and the payloads of ring entries.
// p2s carries doorbells; s2p carries the standby's hello and its acks.
import type { Request } from './wire.js';
import type { StoreSnapshot } from '../store/kv-store.js';

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

/** Ring entry payloads: a write, or one chunk of a snapshot. */
export type RingPayload =
  | { kind: 'write'; seq: number; req: Request }
  | { kind: 'snapshot'; index: number; total: number; chunk: Buffer };

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

export function encodeSnapshotChunks(s: StoreSnapshot, chunkBytes: number): Buffer[] {
  const whole = Buffer.from(JSON.stringify(s));
  const total = Math.max(1, Math.ceil(whole.length / chunkBytes));
  const out: Buffer[] = [];
  for (let i = 0; i < total; i++) {
    const chunk = whole.subarray(i * chunkBytes, (i + 1) * chunkBytes);
    const b = Buffer.allocUnsafe(9 + chunk.length);
    b[0] = SNAP;
    b.writeUInt32LE(i, 1);
    b.writeUInt32LE(total, 5);
    chunk.copy(b, 9);
    out.push(b);
  }
  return out;
}

/** Throws on anything malformed: the caller treats that like ring corruption. */
export function decodeRingPayload(b: Uint8Array): RingPayload {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length >= 9 && buf[0] === WRITE) {
    const seq = buf.readDoubleLE(1);
    const req = JSON.parse(buf.toString('utf8', 9)) as Request;
    return { kind: 'write', seq, req };
  }
  if (buf.length >= 9 && buf[0] === SNAP) {
    return { kind: 'snapshot', index: buf.readUInt32LE(1), total: buf.readUInt32LE(5), chunk: Buffer.from(buf.subarray(9)) };
  }
  throw new Error(`unknown ring payload kind 0x${(buf[0] ?? 0).toString(16)}`);
}

export function decodeSnapshot(chunks: Buffer[]): StoreSnapshot {
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as StoreSnapshot;
}
