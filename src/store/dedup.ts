import type { Reply } from '../protocol/wire.js';

/**
 * Replies of the last `capacity` writes by request id. It is replicated state: the standby
 * records the same replies, so a write retried across a failover returns its first answer.
 */
export class DedupWindow {
  private readonly replies = new Map<string, Reply>();

  constructor(private readonly capacity: number) {}

  get(id: string): Reply | undefined {
    return this.replies.get(id);
  }

  has(id: string): boolean {
    return this.replies.has(id);
  }

  record(id: string, reply: Reply): void {
    this.replies.set(id, reply);
    // Map iteration order is insertion order: the first key is the oldest write.
    while (this.replies.size > this.capacity) {
      const oldest = this.replies.keys().next().value as string;
      this.replies.delete(oldest);
    }
  }

  get size(): number {
    return this.replies.size;
  }

  /** Oldest first, live: entries recorded while iterating are visited too. */
  live(): IterableIterator<[string, Reply]> {
    return this.replies.entries();
  }

  load(entries: [string, Reply][]): void {
    this.replies.clear();
    for (const [id, r] of entries) this.record(id, r);
  }
}
