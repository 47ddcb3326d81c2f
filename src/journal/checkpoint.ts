import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SnapshotCursor } from '../host/snapshot.js';
import { writeAll } from './files.js';
import { encodeRecord, TAG_END, TAG_PART } from './records.js';

// A few parts per turn: the host holds commands while they are pulled, but pings (and
// reads) are answered between turns however large the state.
const PARTS_PER_TURN = 4;
// Parts pulled but not yet written: up to this much, pulling does not wait for the disk, so
// a slow disk does not stretch how long commands are held for a state of ordinary size.
const MAX_UNWRITTEN_BYTES = 64 * 1024 * 1024;

/**
 * Writes a checkpoint into `fd`: the snapshot's parts, then its end record, then whatever
 * `queue` received meanwhile (the entries applied once the snapshot released the host), in
 * that order. Returns the bytes written. What reaches `queue` after it returns is the
 * caller's to write.
 */
export async function writeCheckpoint(fd: number, cursor: SnapshotCursor, queue: Buffer[], closed: () => boolean): Promise<number> {
  let bytes = 0;
  let unwritten = 0;
  let writing: Promise<void> = Promise.resolve();
  const writeInOrder = (batch: Buffer): void => {
    unwritten += batch.length;
    writing = writing.then(async () => {
      await writeAll(fd, batch);
      unwritten -= batch.length;
    });
  };
  try {
    for (let pulling = true; pulling; ) {
      for (let i = 0; i < PARTS_PER_TURN && pulling; i++) {
        const part = cursor.next();
        if (part) {
          queue.push(encodeRecord(part, TAG_PART));
        } else {
          // The end goes in before anything applied after the release can be queued.
          queue.push(encodeRecord(Buffer.alloc(0), TAG_END));
          pulling = false;
        }
      }
      const batch = Buffer.concat(queue.splice(0));
      bytes += batch.length;
      writeInOrder(batch);
      if (pulling) await (unwritten > MAX_UNWRITTEN_BYTES ? writing : nextTurn());
      if (closed()) throw new Error('journal closed');
    }
    // Entries applied while the parts were written join them; later ones are the caller's.
    await writing;
    if (queue.length > 0) {
      const batch = Buffer.concat(queue.splice(0));
      bytes += batch.length;
      await writeAll(fd, batch);
    }
    if (closed()) throw new Error('journal closed');
  } finally {
    cursor.close();
    // A write still in flight after an early exit must not become an unhandled rejection.
    writing.catch(() => undefined);
  }
  return bytes;
}
