import { isWellFormed } from '../protocol/well-formed.js';
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
/** In exportFrom's bytes: an entry kept as JSON (an OTHER, or an id UTF-8 cannot carry). */
const JSON_ENTRY = 0x4a; // 'J'
/** Longer ids (in UTF-16 units) go as JSON: their UTF-8 might not fit a u16 length. */
const MAX_BYTE_ID = 0x5555;
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
    const p = this.place(id);
    if (p >= 0) this.keep(p, id, digest, reply);
  }

  /** The ring position `id` is recorded at from now on (-1: the window keeps nothing). */
  private place(id: string): number {
    if (this.capacity <= 0) return -1;
    if (this.bulk) return this.placeBulk(this.bulk, id);
    let p = this.positions.get(id);
    if (p !== undefined) {
      // Same id again (an older journal's replayed reply): it keeps its place, as Map.set does.
      this.others.delete(p);
      return p;
    }
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
    return p;
  }

  /**
   * Entries from the `from`-th oldest on, in their byte form, as many as fit in about
   * `maxBytes` (one at least): a snapshot's dedup part. Returns the bytes and where to go on
   * from (`size` once all are in). Each entry is
   *   a kind byte; for OK, NULL and NUMBER: u16 id bytes, the id (UTF-8), the request digest's
   *   12 bytes, and for NUMBER the result (f64); for JSON: u32 bytes, JSON [id, digest, reply].
   */
  exportFrom(from: number, maxBytes: number): { bytes: Buffer; next: number } {
    this.endBulk();
    const n = this.positions.size;
    let out = Buffer.allocUnsafe(maxBytes);
    let at = 0;
    let i = from;
    for (; i < n; i++) {
      const p = (this.head + i) % this.capacity;
      const id = this.ids[p] as string;
      const kind = this.kinds[p] as number;
      const json = kind === OTHER || !isWellFormed(id) || id.length > MAX_BYTE_ID ? jsonEntry(id, this.at(p, id)) : null;
      const need = json === null ? 1 + 2 + 3 * id.length + DIGEST_BYTES + 8 : 1 + 4 + Buffer.byteLength(json);
      if (at + need > out.length) {
        if (at > 0) break;
        out = Buffer.allocUnsafe(need);
      }
      if (json !== null) {
        out[at] = JSON_ENTRY;
        at = out.writeUInt32LE(Buffer.byteLength(json), at + 1);
        at += out.write(json, at, 'utf8');
        continue;
      }
      out[at] = kind;
      const idBytes = out.write(id, at + 3, 'utf8');
      out.writeUInt16LE(idBytes, at + 1);
      at += 3 + idBytes;
      at += this.digests.copy(out, at, p * DIGEST_BYTES, (p + 1) * DIGEST_BYTES);
      if (kind === NUMBER) at = out.writeDoubleLE(this.numbers[p] as number, at);
    }
    return { bytes: out.subarray(0, at), next: i };
  }

  /** Records the entries of exportFrom's bytes, oldest first. Throws if they are malformed. */
  importBytes(b: Buffer): void {
    for (let at = 0; at < b.length; ) {
      const kind = b[at] as number;
      if (kind === JSON_ENTRY) {
        if (at + 5 > b.length) throw new Error('dedup entry is cut short');
        const end = at + 5 + b.readUInt32LE(at + 1);
        if (end > b.length) throw new Error('dedup entry is cut short');
        const e = JSON.parse(b.toString('utf8', at + 5, end)) as unknown;
        if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'object' || e[2] === null) throw new Error('dedup entry is malformed');
        this.record(e[0], e[1], e[2] as Reply);
        at = end;
        continue;
      }
      if (kind > NUMBER || at + 3 > b.length) throw new Error('dedup entry is malformed');
      const idEnd = at + 3 + b.readUInt16LE(at + 1);
      const end = idEnd + DIGEST_BYTES + (kind === NUMBER ? 8 : 0);
      if (end > b.length) throw new Error('dedup entry is cut short');
      const p = this.place(b.toString('utf8', at + 3, idEnd));
      if (p >= 0) {
        this.kinds[p] = kind;
        b.copy(this.digests, p * DIGEST_BYTES, idEnd, idEnd + DIGEST_BYTES);
        if (kind === NUMBER) this.numbers[p] = b.readDoubleLE(idEnd + DIGEST_BYTES);
      }
      at = end;
    }
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

  /** The ring alone, as place does once the window is full; the map waits for endBulk. */
  private placeBulk(b: { size: number }, id: string): number {
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
    return p;
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

function jsonEntry(id: string, r: Recorded): string {
  return JSON.stringify([id, r.digest, r.reply]);
}
