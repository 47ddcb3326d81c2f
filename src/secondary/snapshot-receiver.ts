import type { ServiceHost } from '../host/host.js';
import { SnapshotRestorer } from '../host/snapshot.js';

/** A snapshot chunk as the ring delivers it (see RingPayload). */
export interface SnapshotChunk {
  index: number;
  endOfPart: boolean;
  last: boolean;
  bytes: Uint8Array;
}

/**
 * Joins a snapshot's chunks back into its parts and restores the host from them once the
 * last one arrives. Chunk bytes may be a view of the ring: they are copied before keeping.
 */
export class SnapshotReceiver {
  private readonly restorer = new SnapshotRestorer();
  private chunks: Uint8Array[] = [];
  private next = 0;
  done = false;

  /** Returns true when this chunk completed the snapshot and the host holds its state. */
  accept(c: SnapshotChunk, host: ServiceHost<unknown>): boolean {
    if (this.done || c.index !== this.next) throw new Error(`snapshot chunk ${c.index} out of order`);
    this.next++;
    if (!c.endOfPart) {
      if (c.last) throw new Error(`snapshot chunk ${c.index} is last but ends no part`);
      this.chunks.push(Buffer.from(c.bytes));
      return false;
    }
    this.chunks.push(c.bytes);
    const part = Buffer.concat(this.chunks);
    this.chunks = [];
    this.restorer.feed(part);
    if (!c.last) return false;
    this.restorer.finish(host);
    this.done = true;
    return true;
  }
}
