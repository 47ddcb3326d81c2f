import fs from 'node:fs';
import type { ServiceHost } from '../host/host.js';
import { SnapshotRestorer } from '../host/snapshot.js';
import { logLine } from '../log.js';
import { decodeEntry, isEntryTag } from '../protocol/replication.js';
import { JournalCorruptError } from './errors.js';
import { inspectJournal } from './inspect.js';
import { replayLegacy } from './legacy.js';
import { RECORD_HEADER, TAG_PART } from './records.js';

/**
 * Rebuilds in `host` the state a previous primary journaled: its checkpoint, then every
 * later entry re-executed in order. Returns false when there is no journal. A torn tail
 * is cut (and logged); any other damage throws JournalCorruptError and changes nothing.
 */
export function replayJournal<S>(file: string, host: ServiceHost<S>): boolean {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const ins = inspectJournal(data);
  if (ins.problem && !ins.problem.tail) throw new JournalCorruptError(file, ins.problem.offset, ins.problem.reason);
  if (ins.format === 'empty') return false;
  if (ins.format === 'legacy') {
    replayLegacy(file, ins.records, host);
  } else {
    const restorer = new SnapshotRestorer();
    let at = 0;
    try {
      for (const r of ins.records) {
        at = r.offset;
        const tag = r.body[0];
        if (tag === TAG_PART) restorer.feed(r.body.subarray(1));
        else if (isEntryTag(tag)) host.apply(decodeEntry(r.body));
        else restorer.finish(host);
      }
    } catch (err) {
      throw new JournalCorruptError(file, at, (err as Error).message);
    }
  }
  if (ins.problem) {
    logLine('primary', 'journal-tail-cut', { file, offset: ins.problem.offset, bytes: data.length - ins.problem.offset, reason: ins.problem.reason });
  }
  return true;
}

/** Bytes of the valid prefix (where a torn tail starts). */
export function validBytes(records: { offset: number; body: Buffer }[]): number {
  const last = records[records.length - 1];
  return last ? last.offset + RECORD_HEADER + last.body.length : 0;
}
