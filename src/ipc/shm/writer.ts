/**
 * The single writer of the ring (the primary): appends CRC-checked entries, publishes them
 * in batches, and waits for the reader to release space.
 */
import { OspsError, RingCorruptError } from '../../errors.js';
import { crc32Range } from '../crc32.js';
import { DATA_OFFSET, ENTRY_HEADER_BYTES, ENTRY_MARKER, Ent, WRAP_MARKER, entryBytes, maxPayloadFor } from '../shm-layout.js';
import { AWAKE_IDX, GEN_IDX, HEAD_IDX, TAIL_IDX, awakeToken } from './header.js';
import { type Handle, type Mapping, liveMapping } from './mapping.js';
import { type ShmRing, ringHandle } from './ring.js';

/** Fallback re-check period of waitForSpace: a lost notify() costs at most this much latency. */
const SPACE_POLL_MS = 2;

interface SpaceWaiter {
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The single writer (the primary). Appends write entries without publishing them; one
 * publish() per batch stores head once (group commit). Never overwrites bytes the reader
 * has not released: a full ring returns false from tryAppend (backpressure).
 */
export class RingWriter {
  /** Largest payload tryAppend accepts (capacity / 2 - entry header). */
  readonly maxPayload: number;
  private readonly ring: ShmRing;
  private readonly h: Handle;
  private readonly cap: number;
  private readonly mask: number;
  /** Position after the last appended (maybe unpublished) entry; only this object moves head. */
  private pos: number;
  private wraps = 0;
  private readonly waiters = new Set<SpaceWaiter>();
  private timer: NodeJS.Timeout | null = null;

  constructor(ring: ShmRing) {
    this.ring = ring;
    this.h = ringHandle(ring);
    const m = liveMapping(this.h, ring.name);
    this.cap = ring.capacity;
    this.mask = ring.capacity - 1;
    this.maxPayload = maxPayloadFor(ring.capacity);
    this.pos = Atomics.load(m.u32, HEAD_IDX);
  }

  /** Bytes an entry with this payload occupies (header + payload + pad to 8). */
  entryBytes(payloadLen: number): number {
    return entryBytes(payloadLen);
  }

  /** How many WRAP markers this writer has written (i.e. times it went back to offset 0). */
  get wrapCount(): number {
    return this.wraps;
  }

  /** Free bytes: capacity minus everything appended (published or not) and not yet released. */
  freeBytes(): number {
    return this.cap - this.used(liveMapping(this.h, this.ring.name));
  }

  /**
   * Copies one entry into the ring; invisible to the reader until publish(). False when it
   * does not fit now (the caller waits for space); throws ENTRY_TOO_LARGE when it never can.
   */
  tryAppend(payload: Uint8Array, seq: number, epoch: number): boolean {
    const m = liveMapping(this.h, this.ring.name);
    const len = payload.byteLength;
    if (len > this.maxPayload) {
      throw new OspsError('ENTRY_TOO_LARGE', `entry payload of ${len} bytes exceeds the ring's maximum of ${this.maxPayload}`, {
        len,
        max: this.maxPayload,
      });
    }
    if (!Number.isSafeInteger(seq)) throw new OspsError('SHM_BAD_VALUE', `entry seq must be a safe integer, got ${seq}`);
    const size = entryBytes(len);
    const free = this.cap - this.used(m);
    let off = this.pos & this.mask;
    const toEnd = this.cap - off;
    if (size > toEnd) {
      // An entry never straddles the end: skip the rest (accounted as used) and start at 0.
      if (free < toEnd + size) return false;
      m.u32[(DATA_OFFSET + off) >> 2] = WRAP_MARKER;
      this.pos = (this.pos + toEnd) >>> 0;
      off = 0;
      this.wraps++;
    } else if (free < size) {
      return false;
    }
    const base = DATA_OFFSET + off;
    const w = base >> 2;
    const u8 = m.u8;
    const u32 = m.u32;
    const end = base + ENTRY_HEADER_BYTES + len;
    u32[w + (Ent.LENGTH >> 2)] = len;
    u32[w + (Ent.EPOCH >> 2)] = epoch >>> 0;
    m.f64[(base + Ent.SEQ) >> 3] = seq;
    if (len > 0) u8.set(payload, base + Ent.PAYLOAD);
    // Zero the pad: the ring should never carry leftovers of older entries.
    for (let i = end; i < base + size; i++) u8[i] = 0;
    u32[w + (Ent.CRC >> 2)] = crc32Range(u8, base + Ent.CRC_FROM, end);
    u32[w] = ENTRY_MARKER;
    this.pos = (this.pos + size) >>> 0;
    return true;
  }

  /** Where the next entry goes: a mark for rewind(). */
  get position(): number {
    return this.pos;
  }

  /**
   * Takes back the entries appended since `mark` (a position read before them), which must
   * not be published yet: a batch the writer decided not to commit after all.
   */
  rewind(mark: number): void {
    const published = Atomics.load(liveMapping(this.h, this.ring.name).u32, HEAD_IDX);
    if (((this.pos - mark) >>> 0) > ((this.pos - published) >>> 0)) throw new OspsError('SHM_BAD_VALUE', 'cannot rewind past published entries');
    this.pos = mark;
  }

  /**
   * Makes every appended entry visible to the reader with one atomic store of head. Returns
   * true when the caller must ring the reader's doorbell; false while the reader is awake:
   * draining (RingReader.wake), or woken by a doorbell rung since its last sleep(). Either
   * way it drains these entries too before it sleeps, so one doorbell (and one ack) serves
   * every batch published until then.
   */
  publish(): boolean {
    const m = liveMapping(this.h, this.ring.name);
    // Store head, then load the flag; the reader clears the flag, then loads head (sleep()):
    // with both sequentially consistent, one of the two sees the other, so no wake-up is lost.
    Atomics.store(m.u32, HEAD_IDX, this.pos);
    const token = awakeToken(Atomics.load(m.i32, GEN_IDX));
    if (Atomics.load(m.i32, AWAKE_IDX) === token) return false;
    // The doorbell the caller rings now wakes the reader, which clears this when it is done.
    Atomics.store(m.i32, AWAKE_IDX, token);
    return true;
  }

  /**
   * Resolves once an entry of `bytes` total size (entryBytes(len)) can be appended, counting
   * the WRAP skip it would need at the current position (so a resolved wait is never
   * followed by a tryAppend that fails for lack of contiguous space). Woken by notify()
   * and re-checked every 2 ms so a lost notify cannot deadlock. The timer is unref'd: the
   * space comes from a reader whose ack arrives on a FIFO that keeps the process alive.
   * Rejects on abort, ENTRY_TOO_LARGE if `bytes` > capacity, SHM_DETACHED if the ring goes away.
   */
  waitForSpace(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!(bytes >= 0) || bytes > this.cap) {
      return Promise.reject(new OspsError('ENTRY_TOO_LARGE', `${bytes} bytes can never fit a ${this.cap}-byte ring`, { bytes }));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      if (this.fits(bytes)) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      const w: SpaceWaiter = {
        bytes,
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.waiters.delete(w);
          this.stopTimerIfIdle();
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.add(w);
      if (!this.timer) {
        this.timer = setInterval(() => this.notify(), SPACE_POLL_MS);
        this.timer.unref();
      }
    });
  }

  /** Re-checks waiting waitForSpace() calls now; call it when an ack arrives. */
  notify(): void {
    for (const w of this.waiters) {
      let ok: boolean;
      try {
        ok = this.fits(w.bytes);
      } catch (err) {
        this.settle(w);
        w.reject(err);
        continue;
      }
      if (ok) {
        this.settle(w);
        w.resolve();
      }
    }
  }

  /**
   * Empties the ring: head = tail = 0, generation++. Only valid while no reader is attached
   * (e.g. before a new standby starts reading): it is the one place the writer stores tail.
   */
  reset(): void {
    const m = liveMapping(this.h, this.ring.name);
    // Generation first: a leftover reader then sees the reset instead of reading garbage.
    Atomics.add(m.i32, GEN_IDX, 1);
    Atomics.store(m.i32, AWAKE_IDX, 0);
    Atomics.store(m.u32, TAIL_IDX, 0);
    Atomics.store(m.u32, HEAD_IDX, 0);
    this.pos = 0;
    this.notify();
  }

  private used(m: Mapping): number {
    const tail = Atomics.load(m.u32, TAIL_IDX);
    const used = (this.pos - tail) >>> 0;
    // A tail outside [head - capacity, head] would make us overwrite unread entries (or stall forever).
    if (used > this.cap || (tail & 7) !== 0) {
      throw new RingCorruptError('bounds', `ring tail ${tail} is inconsistent with head ${this.pos}`, { tail, head: this.pos });
    }
    return used;
  }

  private fits(bytes: number): boolean {
    const free = this.cap - this.used(liveMapping(this.h, this.ring.name));
    if (bytes > this.cap / 2) return free >= bytes;
    const toEnd = this.cap - (this.pos & this.mask);
    return bytes <= toEnd ? free >= bytes : free >= toEnd + bytes;
  }

  private settle(w: SpaceWaiter): void {
    this.waiters.delete(w);
    w.signal?.removeEventListener('abort', w.onAbort);
    this.stopTimerIfIdle();
  }

  private stopTimerIfIdle(): void {
    if (this.waiters.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
