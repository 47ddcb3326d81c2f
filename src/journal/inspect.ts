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

export function inspectJournal(data: Buffer): Inspection {
  const records: RecordAt[] = [];
  let format: Inspection['format'] = 'empty';
  let checkpointEnd = -1;
  let lastSeq = -1;
  let problem: Problem | null = null;
  let off = 0;
  while (off < data.length) {
    const r = recordAt(data, off);
    if (!('body' in r)) {
      const inCheckpoint = format === 'current' && checkpointEnd < 0;
      problem = { ...r, tail: !inCheckpoint && validRecordAfter(data, off) === null };
      if (inCheckpoint) problem.reason += ' inside the checkpoint';
      break;
    }
    const tag = r.body[0];
    const bad = (reason: string): Problem => ({ offset: off, reason, tail: false });
    if (format === 'empty') format = tag === TAG_LEGACY ? 'legacy' : 'current';
    if (format === 'legacy') {
      if (tag !== TAG_LEGACY) {
        problem = bad('a record of another format');
        break;
      }
    } else if (tag === TAG_PART) {
      if (checkpointEnd >= 0) {
        problem = bad('a checkpoint part after the checkpoint');
        break;
      }
    } else if (tag === TAG_END) {
      if (checkpointEnd >= 0 || records.length === 0) {
        problem = bad('a misplaced checkpoint end');
        break;
      }
      checkpointEnd = records.length;
    } else if (tag === TAG_ENTRY || tag === TAG_JSON_ENTRY) {
      if (checkpointEnd < 0) {
        problem = bad('an entry before the checkpoint is complete');
        break;
      }
      const seq = r.body.length >= 9 ? r.body.readDoubleLE(1) : NaN;
      if (!Number.isSafeInteger(seq) || (lastSeq >= 0 && seq !== lastSeq + 1)) {
        problem = bad(`entry seq ${seq} after ${lastSeq}`);
        break;
      }
      lastSeq = seq;
    } else {
      problem = bad(`unknown record type 0x${(tag ?? 0).toString(16)}`);
      break;
    }
    records.push(r);
    off += 8 + r.body.length;
  }
  if (!problem && format === 'current' && checkpointEnd < 0) {
    problem = { offset: data.length, reason: 'the checkpoint is incomplete', tail: false };
  }
  return { format, records, checkpointEnd, problem };
}
