import type { SnapshotCursor } from '../host/snapshot.js';
import { encodeSnapshotChunk } from '../protocol/replication.js';

export interface Chunk {
  payload: Buffer;
  /** The snapshot's final chunk. */
  last: boolean;
}

/**
 * A host snapshot as ring payloads: each part cut into chunks of at most `room` bytes, so
 * any part fits the ring. Parts are pulled from the cursor only as the ring takes them.
 */
export class SnapshotFeed {
  private part: Buffer | null = null;
  private off = 0;
  private ahead: Buffer | null | undefined = undefined;
  private index = 0;
  private pending: (Chunk & { end: number }) | null = null;

  constructor(
    private readonly cursor: SnapshotCursor,
    private readonly room: number,
  ) {}

  /** The next chunk (the same one until `take`), or null once the last was taken. */
  peek(): Chunk | null {
    if (this.pending) return this.pending;
    if (this.part === null) {
      if (this.index > 0) return null;
      this.part = this.cursor.next();
      if (this.part === null) return null;
    }
    const end = Math.min(this.part.length, this.off + this.room);
    const endOfPart = end === this.part.length;
    // Look one part ahead: the chunk that ends the last part says so.
    if (endOfPart && this.ahead === undefined) this.ahead = this.cursor.next();
    const last = endOfPart && this.ahead === null;
    this.pending = { payload: encodeSnapshotChunk(this.index, this.part.subarray(this.off, end), endOfPart, last), last, end };
    return this.pending;
  }

  take(): void {
    const p = this.pending;
    if (!p || !this.part) return;
    this.pending = null;
    this.index++;
    if (p.end === this.part.length) {
      this.part = this.ahead ?? null;
      this.ahead = undefined;
      this.off = 0;
    } else {
      this.off = p.end;
    }
  }

  close(): void {
    this.cursor.close();
  }
}
