import type { Reply } from '../protocol/wire.js';

/** A recorded reply and the digest of the request that produced it ('' = unknown: an older journal). */
export interface Recorded {
  digest: string;
  reply: Reply;
}

/**
 * Replies of the last `capacity` commands by request id. It is replicated state: the standby
 * records the same replies, so a command retried across a failover returns its first answer.
 * Each reply is kept with the digest of its request, so an id reused for another request
 * is refused instead of answered with someone else's reply.
 *
 * The ids are also kept in a circular array in the order they were recorded, so the oldest
 * is evicted by key. (Taking it from the front of the Map instead — `keys().next()` — costs
 * a walk over every entry deleted since V8 last rehashed the table: measured here, ~70 µs
 * per write once 100 000 replies were held, which capped the primary at ~14 000 writes/s.)
 */
export class DedupWindow {
  private readonly replies = new Map<string, Recorded>();
  private readonly order: string[];
  /** Index in `order` of the oldest id. */
  private head = 0;

  constructor(readonly capacity: number) {
    this.order = new Array<string>(Math.max(0, capacity));
  }

  /**
   * While a replay records many more replies than the window keeps, most would be put in the
   * map only to be evicted: they go to a plain ring instead, and the map takes the last
   * `capacity` of them once, at endBulk.
   */
  private bulk: { ids: string[]; recs: Recorded[]; n: number } | null = null;

  get(id: string): Recorded | undefined {
    this.endBulk();
    return this.replies.get(id);
  }

  has(id: string): boolean {
    this.endBulk();
    return this.replies.has(id);
  }

  beginBulk(): void {
    this.bulk ??= { ids: [], recs: [], n: 0 };
  }

  endBulk(): void {
    const b = this.bulk;
    if (!b) return;
    this.bulk = null;
    const keep = Math.min(b.n, this.capacity);
    if (b.n >= this.capacity) this.clear();
    for (let i = b.n - keep; i < b.n; i++) {
      const at = i % this.capacity;
      const rec = b.recs[at] as Recorded;
      this.record(b.ids[at] as string, rec.digest, rec.reply);
    }
  }

  record(id: string, digest: string, reply: Reply): void {
    if (this.capacity <= 0) return;
    const b = this.bulk;
    if (b) {
      const at = b.n++ % this.capacity;
      b.ids[at] = id;
      b.recs[at] = { digest, reply };
      return;
    }
    const rec: Recorded = { digest, reply };
    if (this.replies.has(id)) {
      // Same id again (an older journal's replayed reply): it keeps its place, as Map.set does.
      this.replies.set(id, rec);
      return;
    }
    const n = this.replies.size;
    if (n < this.capacity) {
      this.order[(this.head + n) % this.capacity] = id;
    } else {
      this.replies.delete(this.order[this.head] as string);
      this.order[this.head] = id;
      this.head = (this.head + 1) % this.capacity;
    }
    this.replies.set(id, rec);
  }

  get size(): number {
    this.endBulk();
    return this.replies.size;
  }

  /** Oldest first. */
  entries(): IterableIterator<[string, Recorded]> {
    this.endBulk();
    return this.replies.entries();
  }

  clear(): void {
    if (this.bulk) this.bulk = { ids: [], recs: [], n: 0 };
    this.replies.clear();
    this.head = 0;
  }
}
