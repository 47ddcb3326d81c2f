import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from '../ipc/crc32.js';
import { KvStore, type StoreSnapshot } from '../store/kv-store.js';
import type { Request } from '../protocol/wire.js';

// Record: u32 length, u32 crc32(payload), payload (JSON). A torn tail after a crash
// fails its length or CRC and ends the replay there: it was never acknowledged.
const RECORD_HEADER = 8;

type JournalRecord = { snapshot: StoreSnapshot } | { write: { seq: number; req: Request } };

/**
 * The primary's own log while it has no in-sync standby (degraded mode): a snapshot,
 * then every write, fsynced before the write is acknowledged. Also the final snapshot
 * written on graceful stop, so a full restart keeps the data.
 */
export class Journal {
  private fd: number | null = null;
  private buffered: Buffer[] = [];
  private flushing: Promise<void> | null = null;

  constructor(readonly file: string) {}

  /** Rebuilds the state a previous primary journaled, or null when there is no journal. */
  static replay(file: string, dedupWindow: number): KvStore | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      return null;
    }
    let store: KvStore | null = null;
    let off = 0;
    while (off + RECORD_HEADER <= data.length) {
      const len = data.readUInt32LE(off);
      const sum = data.readUInt32LE(off + 4);
      if (off + RECORD_HEADER + len > data.length) break;
      const body = data.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len);
      if (crc32(body) !== sum) break;
      const rec = JSON.parse(body.toString('utf8')) as JournalRecord;
      if ('snapshot' in rec) {
        store = new KvStore(dedupWindow);
        store.load(rec.snapshot);
      } else if (store) {
        if (rec.write.seq !== store.seq + 1) break;
        store.apply(rec.write);
      }
      off += RECORD_HEADER + len;
    }
    return store;
  }

  /** Starts a fresh journal from a snapshot (atomically replaces the old file). */
  resetTo(snapshot: StoreSnapshot): void {
    this.closeFd();
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    fs.writeSync(fd, encodeRecord({ snapshot }));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, 'a', 0o600);
  }

  append(seq: number, req: Request): void {
    this.buffered.push(encodeRecord({ write: { seq, req } }));
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Writes and fdatasyncs everything appended so far (group commit). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffered.length === 0 || this.fd === null) return;
    const batch = Buffer.concat(this.buffered);
    this.buffered = [];
    const fd = this.fd;
    this.flushing = new Promise<void>((resolve, reject) => {
      fs.write(fd, batch, (err) => {
        if (err) return reject(err);
        fs.fdatasync(fd, (err2) => (err2 ? reject(err2) : resolve()));
      });
    }).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /** The pair holds the data again: a journal left behind would be stale on restart. */
  discard(): void {
    this.closeFd();
    this.buffered = [];
    fs.rmSync(this.file, { force: true });
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = null;
    }
  }
}

function encodeRecord(rec: JournalRecord): Buffer {
  const body = Buffer.from(JSON.stringify(rec));
  const head = Buffer.allocUnsafe(RECORD_HEADER);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}
