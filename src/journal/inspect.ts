// Reads a journal's records and finds where it stops being valid, without executing
// anything: replay and repair both start here.
import { recordAt, validRecordAfter, TAG_END, TAG_ENTRY, TAG_JSON_ENTRY, TAG_LEGACY, TAG_PART, type RecordAt } from './records.js';

export interface Problem {
  offset: number;
  reason: string;
  /** Nothing valid follows, and the checkpoint is complete before it: a write cut short by a crash. */
  tail: boolean;
}

export interface Inspection {
  format: 'empty' | 'current' | 'legacy';
  /** The valid records, in order, up to the first problem. */
  records: RecordAt[];
  /** Index in `records` of the checkpoint's end record (current format), or -1. */
  checkpointEnd: number;
  problem: Problem | null;
}

/**
 * The order a journal's records must follow, checked one record at a time: one format
 * throughout; checkpoint parts, one end, then entries with consecutive seqs.
 */
export class RecordOrder {
  format: Inspection['format'] = 'empty';
  /** Records accepted so far. */
  count = 0;
  /** Index of the checkpoint's end record, or -1. */
  checkpointEnd = -1;
  lastSeq = -1;

  /** Why the record cannot come next (nothing is changed then), or null once it is accepted. */
  accept(r: RecordAt): string | null {
    const tag = r.body[0];
    if (this.format === 'empty') this.format = tag === TAG_LEGACY ? 'legacy' : 'current';
    if (this.format === 'legacy') {
      if (tag !== TAG_LEGACY) return 'a record of another format';
    } else if (tag === TAG_PART) {
      if (this.checkpointEnd >= 0) return 'a checkpoint part after the checkpoint';
    } else if (tag === TAG_END) {
      if (this.checkpointEnd >= 0 || this.count === 0) return 'a misplaced checkpoint end';
      this.checkpointEnd = this.count;
    } else if (tag === TAG_ENTRY || tag === TAG_JSON_ENTRY) {
      if (this.checkpointEnd < 0) return 'an entry before the checkpoint is complete';
      const seq = r.body.length >= 9 ? r.body.readDoubleLE(1) : NaN;
      if (!Number.isSafeInteger(seq) || (this.lastSeq >= 0 && seq !== this.lastSeq + 1)) return `entry seq ${seq} after ${this.lastSeq}`;
      this.lastSeq = seq;
    } else {
      return `unknown record type 0x${(tag ?? 0).toString(16)}`;
    }
    this.count++;
    return null;
  }

  /** A record that is not one at all: inside the checkpoint it is never a torn tail. */
  damaged(bad: { offset: number; reason: string }, validAfter: () => boolean): Problem {
    const inCheckpoint = this.format === 'current' && this.checkpointEnd < 0;
    return { offset: bad.offset, reason: inCheckpoint ? `${bad.reason} inside the checkpoint` : bad.reason, tail: !inCheckpoint && !validAfter() };
  }

  /** At the end of the valid records: a checkpoint never completed is not a state. */
  incomplete(offset: number): Problem | null {
    return this.format === 'current' && this.checkpointEnd < 0 ? { offset, reason: 'the checkpoint is incomplete', tail: false } : null;
  }
}

export function inspectJournal(data: Buffer): Inspection {
  const records: RecordAt[] = [];
  const order = new RecordOrder();
  let problem: Problem | null = null;
  let off = 0;
  while (off < data.length) {
    const r = recordAt(data, off);
    if (!('body' in r)) {
      problem = order.damaged(r, () => validRecordAfter(data, off) !== null);
      break;
    }
    const wrong = order.accept(r);
    if (wrong) {
      problem = { offset: off, reason: wrong, tail: false };
      break;
    }
    records.push(r);
    off += 8 + r.body.length;
  }
  problem ??= order.incomplete(data.length);
  return { format: order.format, records, checkpointEnd: order.checkpointEnd, problem };
}
