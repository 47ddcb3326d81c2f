import type { Reply } from '../protocol/wire.js';

/** A recorded reply and the digest of the request that produced it ('' = unknown: an older journal). */
export interface Recorded {
  digest: string;
  reply: Reply;
}

// How a reply is kept. Nearly every reply is `{id, ok: true, result}` with a result of 'OK',
// null or a number, and its request digest is 16 base64url characters: those cost a byte
// of kind, 12 bytes of digest and maybe a float, instead of three objects and two strings.
const OK = 0;
const NULL = 1;
const NUMBER = 2;
/** Anything else: the Recorded object itself, in `others`. */
const OTHER = 3;
const DIGEST_BYTES = 12;
const COMPACT_DIGEST = /^[A-Za-z0-9_-]{16}$/;
/** Room allocated at first; it doubles up to the capacity as the window fills. */
const FIRST_ROOM = 1024;

/**
 * Replies of the last `capacity` commands by request id. It is replicated state: the standby
 * records the same replies, so a command retried across a failover returns its first answer.
 * Each reply is kept with the digest of its request, so an id reused for another request
 * is refused instead of answered with someone else's reply.
 *
 * The ids are kept in a circular array in the order they were recorded, so the oldest is
 * evicted by position. (Taking it from the front of a Map instead — `keys().next()` — costs
 * a walk over every entry deleted since V8 last rehashed the table: measured here, ~70 µs
 * per write once 100 000 replies were held, which capped the primary at ~14 000 writes/s.)
 * The map from id to position is the only per-reply object; the rest is in typed arrays.
 */
export class DedupWindow {
  /** Request id → its position in the ring. */
  private readonly positions = new Map<string, number>();
  private ids: string[] = [];
  private kinds: Uint8Array;
  private digests: Buffer;
  private numbers: Float64Array;
  private readonly others = new Map<number, Recorded>();
  /** Position of the oldest id. */
  private head = 0;

  constructor(readonly capacity: number) {
    const room = Math.min(Math.max(0, capacity), FIRST_ROOM);
    this.kinds = new Uint8Array(room);
    this.digests = Buffer.alloc(room * DIGEST_BYTES);
    this.numbers = new Float64Array(room);
  }

  /**
   * While a replay records many more replies than the window keeps, most would be put in the
   * map only to be evicted: they go to the ring alone, and the map is built once from what
   * the ring holds at endBulk. `size` is the ring's fill meanwhile.
   */
  private bulk: { size: number } | null = null;

  get(id: string): Recorded | undefined {
    this.endBulk();
    const p = this.positions.get(id);
    return p === undefined ? undefined : this.at(p, id);
  }

  has(id: string): boolean {
    this.endBulk();
    return this.positions.has(id);
  }

  beginBulk(): void {
    if (this.capacity > 0) this.bulk ??= { size: this.positions.size };
  }

  endBulk(): void {
    const b = this.bulk;
    if (!b) return;
    this.bulk = null;
    this.positions.clear();
    for (let i = 0; i < b.size; i++) {
      const p = (this.head + i) % this.capacity;
      const id = this.ids[p] as string;
      // An id recorded twice (an older journal's replayed reply) keeps its first place: rare, done the slow way.
      if (this.positions.has(id)) return this.rerecord(b.size);
      this.positions.set(id, p);
    }
  }

  record(id: string, digest: string, reply: Reply): void {
    if (this.capacity <= 0) return;
    if (this.bulk) return this.recordBulk(this.bulk, id, digest, reply);
    let p = this.positions.get(id);
    if (p !== undefined) {
      // Same id again (an older journal's replayed reply): it keeps its place, as Map.set does.
      this.others.delete(p);
    } else {
      const n = this.positions.size;
      if (n < this.capacity) {
        // Until the window is full the oldest is at 0 and the ring is a plain array.
        p = n;
        if (p >= this.kinds.length) this.grow();
      } else {
        p = this.head;
        this.positions.delete(this.ids[p] as string);
        this.others.delete(p);
        this.head = (this.head + 1) % this.capacity;
      }
      this.ids[p] = id;
      this.positions.set(id, p);
    }
    this.keep(p, id, digest, reply);
  }

  get size(): number {
    this.endBulk();
    return this.positions.size;
  }

  /** Oldest first. */
  *entries(): IterableIterator<[string, Recorded]> {
    this.endBulk();
    const n = this.positions.size;
    for (let i = 0; i < n; i++) {
      const p = (this.head + i) % this.capacity;
      const id = this.ids[p] as string;
      yield [id, this.at(p, id)];
    }
  }

  clear(): void {
    if (this.bulk) this.bulk.size = 0;
    this.positions.clear();
    this.others.clear();
    this.ids = [];
    this.head = 0;
  }

  /** The ring alone, as record does once the window is full; the map waits for endBulk. */
  private recordBulk(b: { size: number }, id: string, digest: string, reply: Reply): void {
    let p: number;
    if (b.size < this.capacity) {
      // Not full yet: the oldest is at 0.
      p = b.size++;
      if (p >= this.kinds.length) this.grow();
    } else {
      p = this.head;
      this.head = (this.head + 1) % this.capacity;
    }
    this.ids[p] = id;
    this.others.delete(p);
    this.keep(p, id, digest, reply);
  }

  /** Records the ring's `n` entries again one by one, oldest first (an id seen twice keeps its first place). */
  private rerecord(n: number): void {
    const all: [string, Recorded][] = [];
    for (let i = 0; i < n; i++) {
      const p = (this.head + i) % this.capacity;
      const id = this.ids[p] as string;
      all.push([id, this.at(p, id)]);
    }
    this.clear();
    for (const [id, rec] of all) this.record(id, rec.digest, rec.reply);
  }

  private keep(p: number, id: string, digest: string, reply: Reply): void {
    if (reply.ok && reply.id === id && COMPACT_DIGEST.test(digest)) {
      const r = reply.result;
      const kind = r === 'OK' ? OK : r === null ? NULL : typeof r === 'number' ? NUMBER : OTHER;
      if (kind !== OTHER) {
        this.kinds[p] = kind;
        if (kind === NUMBER) this.numbers[p] = r as number;
        this.digests.write(digest, p * DIGEST_BYTES, DIGEST_BYTES, 'base64url');
        return;
      }
    }
    this.kinds[p] = OTHER;
    this.others.set(p, { digest, reply });
  }

  private at(p: number, id: string): Recorded {
    const kind = this.kinds[p];
    if (kind === OTHER) return this.others.get(p) as Recorded;
    const digest = this.digests.toString('base64url', p * DIGEST_BYTES, (p + 1) * DIGEST_BYTES);
    const result = kind === OK ? 'OK' : kind === NULL ? null : (this.numbers[p] as number);
    return { digest, reply: { id, ok: true, result } };
  }

  private grow(): void {
    const room = Math.min(this.capacity, this.kinds.length * 2);
    const kinds = new Uint8Array(room);
    kinds.set(this.kinds);
    const digests = Buffer.alloc(room * DIGEST_BYTES);
    this.digests.copy(digests);
    const numbers = new Float64Array(room);
    numbers.set(this.numbers);
    this.kinds = kinds;
    this.digests = digests;
    this.numbers = numbers;
  }
}
