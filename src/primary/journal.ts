import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from '../ipc/crc32.js';
import { logLine } from '../log.js';
import type { Reply, Request } from '../protocol/wire.js';
import { KvStore, type SnapshotPart, type StoreSnapshot } from '../store/kv-store.js';

// Record: u32 length, u32 crc32(payload), payload (JSON). A torn tail after a crash
// fails its length or CRC and ends the replay there: it was never acknowledged.
const RECORD_HEADER = 8;
// A checkpoint encodes this many characters of keys per record, a few records per turn:
// a few milliseconds of the event loop at a time, however large the store.
const PART_CHARS = 256 * 1024;
const PARTS_PER_TURN = 4;
// Compact once the writes since the last checkpoint outweigh it (and at least this much).
const MIN_COMPACT_BYTES = 64 * 1024 * 1024;
// After a failed checkpoint (disk full…), writes are refused at once for this long rather
// than each starting another attempt.
const RETRY_CHECKPOINT_MS = 1000;

type JournalRecord =
  | SnapshotPart
  | { snapshot: StoreSnapshot } // whole-store record written by earlier versions
  | { write: { seq: number; req: Request; reply?: Reply } };

interface Checkpoint {
  /** Records for the new file not yet written to it, in the order they happened. */
  records: Buffer[];
  /** Settles when the new file has replaced the journal (undefined) or was abandoned (the error). */
  done: Promise<Error | undefined>;
}

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);
const open = promisify(fs.open);

/**
 * The primary's write-ahead log, kept at all times: every write it applies is recorded
 * (with its reply) and handed to the kernel before anything in its batch is acknowledged,
 * and fdatasynced before a write is acknowledged without an in-sync standby. So losing the
 * standby costs one fdatasync, never a snapshot, and a fresh primary can always rebuild
 * from the journal whatever state the pair was in.
 *
 * The log starts from a checkpoint (a snapshot of the store in parts) and is compacted by
 * taking another one into a new file while writes go on: the parts are read from the live
 * store a few at a time, interleaved in time order with the writes recorded meanwhile, and
 * replay re-applies each write by its recorded effect, so a part that saw a later value and
 * the write that produced it agree. The new file replaces the old one (rename) only once it
 * is complete and synced; until then the old one is the journal.
 */
export class Journal {
  private fd: number | null = null;
  /** Records appended since the last write(), for `fd`. */
  private pending: Buffer[] = [];
  private appendedSeq: number;
  private writtenSeq: number;
  private durableSeq: number;
  private syncing: Promise<void> | null = null;
  private checkpoint: Checkpoint | null = null;
  private bytesSinceCheckpoint = 0;
  private checkpointBytes = 0;
  private closed = false;
  private failed: { at: number; err: Error } | null = null;

  constructor(
    readonly file: string,
    private readonly store: KvStore,
    private readonly minCompactBytes = MIN_COMPACT_BYTES,
  ) {
    this.appendedSeq = this.writtenSeq = store.seq;
    // Nothing is durable until the first checkpoint is in place.
    this.durableSeq = -1;
  }

  /** Rebuilds the state a previous primary journaled, or null when there is no journal. */
  static replay(file: string, dedupWindow: number): KvStore | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      return null;
    }
    let store: KvStore | null = null;
    // The dedup window is rebuilt at the end, in the order the replies were first given:
    // the checkpoint's (older) ones, then the writes'.
    let base: [string, Reply][] = [];
    let recent: [string, Reply][] = [];
    let off = 0;
    while (off + RECORD_HEADER <= data.length) {
      const len = data.readUInt32LE(off);
      const sum = data.readUInt32LE(off + 4);
      if (off + RECORD_HEADER + len > data.length) break;
      const body = data.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len);
      if (crc32(body) !== sum) break;
      const rec = JSON.parse(body.toString('utf8')) as JournalRecord;
      off += RECORD_HEADER + len;
      if ('begin' in rec || 'snapshot' in rec) {
        store = new KvStore(dedupWindow);
        recent = [];
        if ('begin' in rec) {
          store.loadPart(rec);
          base = [];
        } else {
          store.load(rec.snapshot);
          base = rec.snapshot.dedup;
        }
      } else if (!store) {
        break;
      } else if ('kv' in rec) {
        store.loadPart(rec);
      } else if ('dedup' in rec) {
        for (const e of rec.dedup) base.push(e);
      } else {
        const { seq, req, reply } = rec.write;
        if (seq !== store.seq + 1) break;
        if (reply) store.applyRecorded({ seq, req }, reply);
        recent.push([req.id, reply ?? store.apply({ seq, req })]);
      }
    }
    if (store) store.dedup.load(base.concat(recent));
    return store;
  }

  /** Completed checkpoints (the first one and every compaction). */
  checkpoints = 0;

  /** Starts the journal from the store as it is now (a checkpoint, written in the background). */
  start(): void {
    this.checkpoint ??= this.beginCheckpoint();
  }

  /** The journal on disk is this primary's (its first checkpoint is in place). */
  get installed(): boolean {
    return this.fd !== null;
  }

  /** Records a write just applied to the store. */
  append(seq: number, req: Request, reply: Reply): void {
    const rec = encodeRecord({ write: { seq, req, reply } });
    if (this.fd !== null) this.pending.push(rec);
    this.checkpoint?.records.push(rec);
    this.appendedSeq = seq;
    this.bytesSinceCheckpoint += rec.length;
  }

  /**
   * Hands the appended records to the kernel (one write per batch): from here they survive
   * a crash of this process; `sync` makes them survive the machine's. Called before anything
   * in the batch is acknowledged.
   */
  write(): void {
    if (this.fd !== null && this.pending.length > 0) {
      try {
        writeAllSync(this.fd, this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending));
        this.writtenSeq = this.appendedSeq;
      } catch (err) {
        this.broken(err as Error);
      }
    }
    this.pending = [];
    if (this.checkpoint === null && this.fd !== null && this.bytesSinceCheckpoint > Math.max(this.minCompactBytes, 2 * this.checkpointBytes)) {
      this.checkpoint = this.beginCheckpoint();
    }
  }

  /** Resolves once every write appended so far is on disk in a complete journal. */
  async sync(): Promise<void> {
    this.write();
    const target = this.appendedSeq;
    while (this.durableSeq < target) {
      if (this.closed) throw new Error('journal closed');
      if (this.fd === null) {
        // Writes wait for the checkpoint that starts the journal (or retry a failed one).
        if (!this.checkpoint && this.failed && Date.now() - this.failed.at < RETRY_CHECKPOINT_MS) throw this.failed.err;
        this.checkpoint ??= this.beginCheckpoint();
        const err = await this.checkpoint.done;
        if (err) throw err;
        continue;
      }
      this.syncing ??= this.syncFd(this.fd);
      await this.syncing;
    }
  }

  /** Graceful stop: everything recorded is synced; a compaction in progress is abandoned. */
  async close(): Promise<void> {
    await this.sync();
    this.abort();
    // Let an abandoned compaction remove its half-written file.
    await this.checkpoint?.done;
  }

  /** Stops writing at once (fenced, or after close). The journal on disk stays valid. */
  abort(): void {
    this.closed = true;
    this.closeFdWhenIdle(this.fd);
    this.fd = null;
    this.pending = [];
  }

  private syncFd(fd: number): Promise<void> {
    const upTo = this.writtenSeq;
    return fdatasync(fd)
      .then(
        () => {
          if (this.fd === fd) this.durableSeq = Math.max(this.durableSeq, upTo);
        },
        (err: Error) => {
          // After a failed fsync the page cache cannot be trusted: rewrite from a checkpoint.
          if (this.fd === fd) this.broken(err);
          throw err;
        },
      )
      .finally(() => {
        this.syncing = null;
      });
  }

  private broken(err: Error): void {
    logLine('primary', 'journal-failed', { file: this.file, error: err.message });
    this.closeFdWhenIdle(this.fd);
    this.fd = null;
    this.durableSeq = -1;
  }

  private closeFdWhenIdle(fd: number | null): void {
    if (fd === null) return;
    const close = (): void => {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    };
    // An fdatasync in flight still uses it.
    if (this.syncing) void this.syncing.catch(() => undefined).finally(close);
    else close();
  }

  private beginCheckpoint(): Checkpoint {
    const parts = this.store.parts(PART_CHARS);
    const first = parts.next().value as SnapshotPart;
    const ck: Checkpoint = { records: [encodeRecord(first)], done: Promise.resolve(undefined) };
    this.bytesSinceCheckpoint = 0;
    ck.done = this.runCheckpoint(ck, parts).then(
      () => undefined,
      (err: Error) => {
        if (!this.closed) logLine('primary', 'journal-checkpoint-failed', { file: this.file, error: err.message });
        this.failed = { at: Date.now(), err };
        return err;
      },
    ).finally(() => {
      if (this.checkpoint === ck) this.checkpoint = null;
    });
    return ck;
  }

  private async runCheckpoint(ck: Checkpoint, parts: Generator<SnapshotPart>): Promise<void> {
    const dir = path.dirname(this.file);
    const tmp = `${this.file}.next`;
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const fd = await open(tmp, 'w', 0o600);
    let installed = false;
    try {
      let bytes = 0;
      for (let more = true; more; ) {
        // Parts are read from the live store in this turn, so they land in the file in time
        // order with the writes recorded around them.
        for (let i = 0; i < PARTS_PER_TURN && more; i++) {
          const n = parts.next();
          if (n.done) more = false;
          else ck.records.push(encodeRecord(n.value));
        }
        const batch = Buffer.concat(ck.records.splice(0));
        bytes += batch.length;
        await writeAll(fd, batch);
        if (this.closed) throw new Error('journal closed');
      }
      await fdatasync(fd);
      if (this.closed) throw new Error('journal closed');
      // The switch happens in one turn, so no write slips between the last record and it;
      // the fdatasync here covers only what arrived during the one above.
      writeAllSync(fd, Buffer.concat(ck.records.splice(0)));
      fs.fdatasyncSync(fd);
      fs.renameSync(tmp, this.file);
      syncDir(dir);
      installed = true;
      this.closeFdWhenIdle(this.fd);
      this.fd = fd;
      this.pending = [];
      this.writtenSeq = this.durableSeq = this.appendedSeq;
      this.checkpointBytes = bytes;
      this.checkpoints++;
    } finally {
      if (!installed) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
      }
    }
  }
}

function encodeRecord(rec: JournalRecord): Buffer {
  const body = Buffer.from(JSON.stringify(rec));
  const out = Buffer.allocUnsafe(RECORD_HEADER + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, RECORD_HEADER);
  return out;
}

function writeAllSync(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off);
}

async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await write(fd, buf, off)).bytesWritten;
}

/** Makes the rename itself durable. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
