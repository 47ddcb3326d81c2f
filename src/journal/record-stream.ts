// Reads a journal's records front to back in chunks, so a large journal is never held whole:
// replay pulls one record at a time and applies it before asking for the next.
import fs from 'node:fs';
import { recordAt, RECORD_HEADER, validRecordAfter, type BadRecord, type RecordAt } from './records.js';

// Bytes read per chunk: a few milliseconds of work between reads, little memory.
const CHUNK_BYTES = 8 * 1024 * 1024;

export class RecordStream {
  /** The current chunk: file bytes [base, base + buf.length). */
  private buf: Buffer = Buffer.alloc(0);
  private base = 0;
  /** Offset in the file of the next record. */
  private off = 0;
  readonly size: number;

  constructor(private readonly fd: number) {
    this.size = fs.fstatSync(fd).size;
  }

  /** Offset in the file of the record next() returns next (the valid prefix's end, once it returned null). */
  get offset(): number {
    return this.off;
  }

  /**
   * The next record, or why the bytes there are not one, or null at the end of the file. A
   * record's body stays valid after later calls: each chunk is a buffer of its own, never
   * reused, so a part a service keeps (a view of its bytes) is not overwritten.
   */
  next(): RecordAt | BadRecord | null {
    if (this.off >= this.size) return null;
    let at = this.off - this.base;
    if (at + RECORD_HEADER > this.buf.length || at + RECORD_HEADER + this.buf.readUInt32LE(at) > this.buf.length) {
      this.load(this.off);
      at = 0;
    }
    const r = recordAt(this.buf, at);
    if ('body' in r) {
      this.off += RECORD_HEADER + r.body.length;
      return { offset: this.off - RECORD_HEADER - r.body.length, body: r.body };
    }
    return { offset: this.off, reason: r.reason };
  }

  /**
   * Whether a complete, CRC-valid record follows the bad one at `bad`: then the damage is not
   * a torn tail. Reads the rest of the file once (a rare path: the journal is damaged).
   */
  validRecordAfter(bad: number): boolean {
    const rest = Buffer.allocUnsafe(this.size - bad);
    for (let got = 0; got < rest.length; ) {
      const n = fs.readSync(this.fd, rest, got, rest.length - got, bad + got);
      if (n === 0) break;
      got += n;
    }
    return validRecordAfter(rest, 0) !== null;
  }

  /** Reads a fresh chunk starting at `from`, large enough for the record there if its length is sane. */
  private load(from: number): void {
    let want = Math.min(CHUNK_BYTES, this.size - from);
    if (from + RECORD_HEADER <= this.size) {
      const head = Buffer.allocUnsafe(4);
      fs.readSync(this.fd, head, 0, 4, from);
      const len = head.readUInt32LE(0);
      // A length past the end is left to recordAt to report; a large record gets a chunk of its own.
      if (from + RECORD_HEADER + len <= this.size) want = Math.max(want, RECORD_HEADER + len);
    }
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(this.fd, buf, got, want - got, from + got);
      if (n === 0) break;
      got += n;
    }
    this.buf = got === want ? buf : buf.subarray(0, got);
    this.base = from;
  }
}
