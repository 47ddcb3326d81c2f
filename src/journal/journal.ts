import fs from 'node:fs';
import path from 'node:path';
import type { ServiceHost } from '../host/host.js';
import { openSnapshot, type SnapshotCursor } from '../host/snapshot.js';
import { logLine } from '../log.js';
import { writeCheckpoint } from './checkpoint.js';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { DiskFaults } from './disk-faults.js';
import { closeQuietly, fdatasync, syncDir, writeAllAtSync } from './files.js';
import { FsyncTimes } from './fsync-times.js';
import { recordHeader } from './records.js';
import type { Replayed } from './replay.js';

// Compact once the entries since the last checkpoint pass TAIL_RATIO of its size (and at least
// MIN_COMPACT_BYTES): a restart re-executes that tail entry by entry, at a cost per byte
// well above the checkpoint's, so the tail is what bounds the restart time.
const MIN_COMPACT_BYTES = 8 * 1024 * 1024;
const TAIL_RATIO = 0.25;
// A checkpoint holds commands while its parts are pulled: the next one waits at least this
// many times as long as pulling them took, so a state that is slow to snapshot (large JSON
// parts) is not snapshotted again and again: its tail grows longer instead.
const HOLD_DUTY = 20;
// After a failed checkpoint (disk full…), writes are refused at once for this long rather
// than each starting another attempt.
const RETRY_CHECKPOINT_MS = 1000;

interface Checkpoint {
  /** Records for the new file not yet written to it, in the order they happened. */
  records: Buffer[];
  /** Settles when the new file has replaced the journal (undefined) or was abandoned (the error). */
  done: Promise<Error | undefined>;
}

/**
 * The primary's write-ahead log, kept at all times: every entry it applies is recorded and
 * handed to the kernel before anything in its batch is acknowledged, and fdatasynced before
 * an entry is acknowledged without an in-sync standby. So losing the standby costs one
 * fdatasync, never a snapshot, and a fresh primary can always rebuild from the journal.
 *
 * A journal file is a checkpoint (the host's snapshot at one commit point, in parts, then an
 * end record) followed by every later entry, which replay re-executes in order. Compaction
 * takes another checkpoint into a new file: the host holds commands while the parts are
 * pulled (a few per turn), entries applied afterwards follow them, and the new file
 * replaces the old one (rename) only once it is complete and synced; until then the old one
 * is the journal.
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
  /** Bytes of the journal file that hold complete records (where the next write goes). */
  private size = 0;
  /** Records of the current batch also given to a checkpoint in progress (taken back if the batch fails). */
  private pendingCk = 0;
  /** Set while the disk refuses our writes (ENOSPC, EDQUOT): logged once per episode. */
  private full: Error | null = null;
  /** Completed checkpoints (the first one and every compaction). */
  checkpoints = 0;
  /** Every fdatasync of the journal (entries and checkpoints), for the metrics. */
  readonly fsyncs = new FsyncTimes();
  /** Time the last checkpoint spent pulling its parts from the service, and when it was done (performance.now()). */
  private pulled = { ms: 0, at: 0 };
  /** The file this primary replayed at start, which the journal may take over instead of a first checkpoint. */
  private replayed: (Replayed & { seq: number }) | null = null;

  constructor(
    readonly file: string,
    private readonly host: ServiceHost<unknown>,
    private readonly minCompactBytes = MIN_COMPACT_BYTES,
    /** Injected disk faults (only with --fault-injection). */
    private readonly faults: DiskFaults | null = null,
  ) {
    this.appendedSeq = this.writtenSeq = host.seq;
    // Nothing is durable until the first checkpoint is in place.
    this.durableSeq = -1;
  }

  /**
   * Starts the journal from the host as it is now (a checkpoint, written in the background),
   * or, when the host is exactly what `replayed` rebuilt from this file and its tail is short,
   * from a copy of the file: the same records, without serializing the whole state again.
   * Settles once that first file is in place (undefined) or was abandoned (the error).
   */
  start(): Promise<Error | undefined> {
    const r = this.replayed;
    this.replayed = null;
    if (r && r.format === 'current' && r.seq === this.host.seq && !this.due(r.entryBytes, r.checkpointBytes)) {
      this.checkpoint ??= this.beginAdopt(r);
    }
    const first = (this.checkpoint ??= this.beginCheckpoint());
    return first.done;
  }

  /** The journal file was replayed into the host up to `seq`: start() may take it over. */
  resumeFrom(r: Replayed, seq: number): void {
    this.replayed = { ...r, seq };
  }

  /** The journal on disk is this primary's (its first checkpoint is in place). */
  get installed(): boolean {
    return this.fd !== null;
  }

  /** Records an entry just applied, in the bytes the ring carries it (`encodeEntry`). */
  append(seq: number, entry: Buffer): void {
    const head = recordHeader(entry);
    if (this.fd !== null) this.pending.push(head, entry);
    if (this.checkpoint) {
      this.checkpoint.records.push(head, entry);
      this.pendingCk += 2;
    }
    this.appendedSeq = seq;
    this.bytesSinceCheckpoint += head.length + entry.length;
  }

  /**
   * Hands the appended records to the kernel (one write per batch): from here they survive
   * a crash of this process; `sync` makes them survive the machine's. Called before anything
   * in the batch is applied or acknowledged. All or nothing: on failure (the error is
   * returned) the batch's records are taken back, so the caller must not apply its entries.
   * A full disk costs only this batch: the file is cut back to its last complete record and
   * the next batch tries again, needing only its own bytes (no new checkpoint).
   */
  write(): Error | null {
    let failure: Error | null = null;
    if (this.fd !== null && this.pending.length > 0) {
      const buf = Buffer.concat(this.pending);
      try {
        const injected = this.faults?.full();
        if (injected) throw injected;
        writeAllAtSync(this.fd, buf, this.size);
        this.size += buf.length;
        this.writtenSeq = this.appendedSeq;
        if (this.full) {
          logLine('primary', 'journal-writable', { file: this.file, after: this.full.message });
          this.full = null;
        }
      } catch (err) {
        failure = err as Error;
        this.takeBack(buf.length);
        if (isNoSpace(failure)) this.refused(failure);
        else this.broken(failure);
      }
    }
    this.pending = [];
    this.pendingCk = 0;
    return failure;
  }

  /** Starts a compaction when the entries since the last checkpoint outweigh it (after a batch is applied). */
  compactIfDue(): void {
    if (this.checkpoint !== null || this.fd === null) return;
    if (performance.now() - this.pulled.at < HOLD_DUTY * this.pulled.ms) return;
    if (this.due(this.bytesSinceCheckpoint, this.checkpointBytes)) {
      this.checkpoint = this.beginCheckpoint();
    }
  }

  private due(tailBytes: number, checkpointBytes: number): boolean {
    return tailBytes > Math.max(this.minCompactBytes, TAIL_RATIO * checkpointBytes);
  }

  /** The disk is refusing writes now (the last batch failed for lack of space). */
  get refusing(): boolean {
    return this.full !== null;
  }

  private takeBack(bytes: number): void {
    this.appendedSeq = this.writtenSeq;
    this.bytesSinceCheckpoint = Math.max(0, this.bytesSinceCheckpoint - bytes);
    if (this.checkpoint && this.pendingCk > 0) this.checkpoint.records.splice(this.checkpoint.records.length - this.pendingCk);
  }

  private refused(err: Error): void {
    if (!this.full) logLine('primary', 'journal-full', { file: this.file, error: err.message, note: 'writes refused, reads served' });
    this.full = err;
    try {
      // A partial record must not stay: the next batch is written from here.
      if (this.fd !== null) fs.ftruncateSync(this.fd, this.size);
    } catch (e) {
      this.broken(e as Error);
    }
  }

  /** Resolves once every entry appended so far is on disk in a complete journal. */
  async sync(): Promise<void> {
    this.write();
    const target = this.appendedSeq;
    while (this.durableSeq < target) {
      if (this.closed) throw new Error('journal closed');
      if (this.fd === null) {
        // Entries wait for the checkpoint that starts the journal (or retry a failed one).
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
    // Let an abandoned compaction remove its half-written file (and release the host).
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
    const delay = this.faults?.fsyncDelayMs() ?? 0;
    // An injected delay counts: it stands for a slow disk.
    return this.fsyncs
      .timed(delay > 0 ? sleep(delay).then(() => fdatasync(fd)) : fdatasync(fd))
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
    this.full = null;
    logLine('primary', 'journal-failed', { file: this.file, error: err.message });
    this.closeFdWhenIdle(this.fd);
    this.fd = null;
    this.durableSeq = -1;
  }

  private closeFdWhenIdle(fd: number | null): void {
    if (fd === null) return;
    // An fdatasync in flight still uses it.
    if (this.syncing) void this.syncing.catch(() => undefined).finally(() => closeQuietly(fd));
    else closeQuietly(fd);
  }

  private beginCheckpoint(): Checkpoint {
    this.bytesSinceCheckpoint = 0;
    return this.begin((ck) => this.runCheckpoint(ck));
  }

  private beginAdopt(r: Replayed): Checkpoint {
    this.bytesSinceCheckpoint = r.entryBytes;
    return this.begin((ck) => this.runAdopt(ck, r));
  }

  private begin(run: (ck: Checkpoint) => Promise<void>): Checkpoint {
    const ck: Checkpoint = { records: [], done: Promise.resolve(undefined) };
    ck.done = run(ck)
      .then(
        () => undefined,
        (err: Error) => {
          if (!this.closed) logLine('primary', 'journal-checkpoint-failed', { file: this.file, error: err.message });
          this.failed = { at: Date.now(), err };
          return err;
        },
      )
      .finally(() => {
        if (this.checkpoint === ck) this.checkpoint = null;
      });
    return ck;
  }

  private async runCheckpoint(ck: Checkpoint): Promise<void> {
    // Taken now, at this commit point: the host holds commands until its last part is pulled.
    let t = performance.now();
    const cursor = openSnapshot(this.host);
    let ms = performance.now() - t;
    const timed: SnapshotCursor = {
      seq: cursor.seq,
      next: () => {
        t = performance.now();
        const part = cursor.next();
        ms += performance.now() - t;
        if (part === null) this.pulled = { ms, at: performance.now() };
        return part;
      },
      close: () => cursor.close(),
    };
    try {
      await this.writeNext(ck, async (fd) => {
        const bytes = await writeCheckpoint(fd, timed, ck.records, () => this.closed);
        return { checkpointBytes: bytes, size: bytes };
      });
    } finally {
      cursor.close();
    }
  }

  /**
   * A new file with the replayed one's valid records (copied by the kernel, the host not held)
   * and the entries applied since: a new inode, so nothing a predecessor still held open can
   * reach it, as with a checkpoint.
   */
  private async runAdopt(ck: Checkpoint, r: Replayed): Promise<void> {
    const tmp = `${this.file}.next`;
    await this.writeNext(ck, async () => {
      // Into the inode just created (copyFile truncates and fills an existing file in place).
      await fs.promises.copyFile(this.file, tmp);
      // A torn tail is cut here, as a checkpoint would have left it out.
      await fs.promises.truncate(tmp, r.validBytes);
      return { checkpointBytes: r.checkpointBytes, size: r.validBytes };
    });
  }

  /**
   * Fills `<file>.next` with `fill` (which returns the bytes it wrote there and how many of
   * them are checkpoint), appends the records that arrived meanwhile, and puts it in the
   * journal's place once synced.
   */
  private async writeNext(ck: Checkpoint, fill: (fd: number) => Promise<{ checkpointBytes: number; size: number }>): Promise<void> {
    const dir = path.dirname(this.file);
    const tmp = `${this.file}.next`;
    let fd: number | null = null;
    let installed = false;
    try {
      // Two quick syscalls, made at once: through the thread pool they cost a promoted
      // primary, whose first writes wait on this file, several ms of queueing.
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fd = fs.openSync(tmp, 'w', 0o600);
      // The caller's turn ends first (a promotion reports itself); a checkpoint holds the host meanwhile.
      await nextTurn();
      const { checkpointBytes, size } = await fill(fd);
      if (this.closed) throw new Error('journal closed');
      // The entries applied while it was filled follow (a checkpoint's own writer took some
      // already), and one fdatasync covers both: a promoted standby's first writes wait for two
      // syncs (this one and the dir's), not three.
      const meanwhile = Buffer.concat(ck.records.splice(0));
      writeAllAtSync(fd, meanwhile, size);
      const at = size + meanwhile.length;
      await this.fsyncs.timed(fdatasync(fd));
      if (this.closed) throw new Error('journal closed');
      // The switch happens in one turn, so no entry slips between the last record and it; an
      // fdatasync here covers only what arrived during the one above (none: no second one).
      const last = Buffer.concat(ck.records.splice(0));
      if (last.length > 0) {
        writeAllAtSync(fd, last, at);
        fs.fdatasyncSync(fd);
      }
      fs.renameSync(tmp, this.file);
      syncDir(dir);
      installed = true;
      this.closeFdWhenIdle(this.fd);
      this.fd = fd;
      this.size = at + last.length;
      this.pending = [];
      this.writtenSeq = this.durableSeq = this.appendedSeq;
      this.checkpointBytes = checkpointBytes;
      this.checkpoints++;
    } finally {
      if (!installed) {
        if (fd !== null) closeQuietly(fd);
        fs.rmSync(tmp, { force: true });
      }
    }
  }
}

function isNoSpace(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
