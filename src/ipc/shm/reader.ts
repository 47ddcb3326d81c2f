/**
 * The single reader of the ring (the standby): validates every entry before handing it out
 * and releases space back to the writer.
 */
import { OspsError, RingCorruptError } from '../../errors.js';
import { crc32Range } from '../crc32.js';
import { DATA_OFFSET, ENTRY_HEADER_BYTES, ENTRY_MARKER, Ent, WRAP_MARKER, entryBytes, maxPayloadFor } from '../shm-layout.js';
import { AWAKE_IDX, GEN_IDX, HEAD_IDX, TAIL_IDX, awakeToken } from './header.js';
import { type Handle, liveMapping } from './mapping.js';
import { type ShmRing, ringHandle } from './ring.js';

/** One entry as read from the ring. */
export interface RingEntry {
  seq: number;
  epoch: number;
  /**
   * A view INTO shared memory: valid only until release() (the writer may then overwrite
   * it) and never after detach(). Copy it (Buffer.from(payload)) to keep it longer.
   */
  payload: Uint8Array;
}

export interface RingReaderOptions {
  /** The epoch every entry must carry (read once per read() call); unchecked if absent. */
  expectedEpoch?: () => number;
  /** Seq of the first entry this reader expects. */
  nextSeq: number;
}

/**
 * The single reader (the standby). read() validates every entry before returning it:
 * marker ('magic'), length within the ring and the published region ('bounds'), CRC ('crc'),
 * seq continuity ('seq-gap'), epoch ('epoch'); a reset of the ring under it is 'bounds'.
 *
 * Error policy: read() returns the valid entries that precede a bad one; the bad entry is
 * never returned, and the next read() (and every later one) throws the RingCorruptError.
 * If the first entry is bad, read() throws at once. The reader is then poisoned for good:
 * the standby must be resynced from a snapshot.
 */
export class RingReader {
  private readonly ring: ShmRing;
  private readonly h: Handle;
  private readonly cap: number;
  private readonly mask: number;
  private readonly maxPayload: number;
  private readonly expectedEpoch: (() => number) | undefined;
  private readonly generation: number;
  /** Position after the last returned entry. */
  private pos: number;
  /** Position last stored to tail. */
  private released: number;
  private seq: number;
  private error: RingCorruptError | null = null;

  constructor(ring: ShmRing, opts: RingReaderOptions) {
    if (!Number.isSafeInteger(opts.nextSeq)) throw new OspsError('SHM_BAD_VALUE', `nextSeq must be a safe integer, got ${opts.nextSeq}`);
    this.ring = ring;
    this.h = ringHandle(ring);
    const m = liveMapping(this.h, ring.name);
    this.cap = ring.capacity;
    this.mask = ring.capacity - 1;
    this.maxPayload = maxPayloadFor(ring.capacity);
    this.expectedEpoch = opts.expectedEpoch;
    this.generation = Atomics.load(m.i32, GEN_IDX);
    this.pos = Atomics.load(m.u32, TAIL_IDX);
    this.released = this.pos;
    this.seq = opts.nextSeq;
  }

  /** Seq of the next entry read() will return. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Published bytes not yet returned by read(). */
  pending(): number {
    return (Atomics.load(liveMapping(this.h, this.ring.name).u32, HEAD_IDX) - this.pos) >>> 0;
  }

  /** Up to `max` published entries after the last returned one, in seq order (see class doc for errors). */
  read(max = Number.POSITIVE_INFINITY): RingEntry[] {
    const m = liveMapping(this.h, this.ring.name);
    if (this.error) throw this.error;
    const out: RingEntry[] = [];
    let err: RingCorruptError | null = null;
    const gen = Atomics.load(m.i32, GEN_IDX);
    const head = Atomics.load(m.u32, HEAD_IDX);
    let pos = this.pos;
    let seq = this.seq;
    if (gen !== this.generation) {
      err = new RingCorruptError('bounds', `ring was reset under the reader (generation ${this.generation} -> ${gen})`, {
        generation: gen,
      });
    } else if (((head - pos) >>> 0) > this.cap || (head & 7) !== 0) {
      err = new RingCorruptError('bounds', `ring head ${head} is inconsistent with read position ${pos}`, { head, pos });
    } else {
      const { u8, u32, f64 } = m;
      const cap = this.cap;
      const mask = this.mask;
      const checkEpoch = this.expectedEpoch !== undefined;
      const wantEpoch = checkEpoch ? (this.expectedEpoch as () => number)() >>> 0 : 0;
      while (pos !== head && out.length < max) {
        const off = pos & mask;
        const toEnd = cap - off;
        const avail = (head - pos) >>> 0;
        const base = DATA_OFFSET + off;
        const w = base >> 2;
        // Positions are 8-aligned and pos != head, so at least the 4 marker bytes are published.
        const marker = u32[w];
        if (marker === WRAP_MARKER) {
          if (avail < toEnd) {
            err = new RingCorruptError('bounds', `WRAP at offset ${off} skips past head`, { pos, head });
            break;
          }
          pos = (pos + toEnd) >>> 0;
          continue;
        }
        if (marker !== ENTRY_MARKER) {
          err = new RingCorruptError('magic', `bad entry marker 0x${(marker ?? 0).toString(16)} at offset ${off}`, { pos, seq });
          break;
        }
        const len = avail >= ENTRY_HEADER_BYTES && toEnd >= ENTRY_HEADER_BYTES ? u32[w + (Ent.LENGTH >> 2)]! : -1;
        const size = len >= 0 && len <= this.maxPayload ? entryBytes(len) : -1;
        if (size < 0 || size > avail || size > toEnd) {
          err = new RingCorruptError('bounds', `entry at offset ${off} (length ${len}) overruns the ring or the published region`, {
            pos,
            head,
            len,
            seq,
          });
          break;
        }
        const end = base + ENTRY_HEADER_BYTES + len;
        if (crc32Range(u8, base + Ent.CRC_FROM, end) !== u32[w + (Ent.CRC >> 2)]) {
          err = new RingCorruptError('crc', `entry at offset ${off} fails its CRC`, { pos, seq });
          break;
        }
        const eSeq = f64[(base + Ent.SEQ) >> 3]!;
        if (eSeq !== seq) {
          err = new RingCorruptError('seq-gap', `entry seq ${eSeq} where ${seq} was expected`, { pos, seq: eSeq, expected: seq });
          break;
        }
        const eEpoch = u32[w + (Ent.EPOCH >> 2)]!;
        if (checkEpoch && eEpoch !== wantEpoch) {
          err = new RingCorruptError('epoch', `entry seq ${eSeq} has epoch ${eEpoch}, expected ${wantEpoch}`, {
            seq: eSeq,
            epoch: eEpoch,
            expected: wantEpoch,
          });
          break;
        }
        out.push({ seq: eSeq, epoch: eEpoch, payload: u8.subarray(base + Ent.PAYLOAD, end) });
        seq++;
        pos = (pos + size) >>> 0;
      }
    }
    this.pos = pos;
    this.seq = seq;
    if (err) {
      this.error = err;
      if (out.length === 0) throw err;
    }
    return out;
  }

  /**
   * Tells the writer this reader is draining: entries it publishes from now on need no
   * doorbell. Call sleep() when done.
   */
  wake(): void {
    Atomics.store(liveMapping(this.h, this.ring.name).i32, AWAKE_IDX, awakeToken(this.generation));
  }

  /**
   * Clears the awake flag; false when entries were published meanwhile (maybe without a
   * doorbell): the caller drains again.
   */
  sleep(): boolean {
    const m = liveMapping(this.h, this.ring.name);
    Atomics.store(m.i32, AWAKE_IDX, 0);
    return Atomics.load(m.u32, HEAD_IDX) === this.pos;
  }

  /** Frees everything returned so far for the writer (one atomic store of tail). Copy payloads first. */
  release(): void {
    const m = liveMapping(this.h, this.ring.name);
    if (this.released === this.pos) return;
    Atomics.store(m.u32, TAIL_IDX, this.pos);
    this.released = this.pos;
  }
}
