import fs from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ServiceHost } from '../host/host.js';
import { restoreSnapshot } from '../host/snapshot.js';
import { logLine } from '../log.js';
import { decodeEntry } from '../protocol/replication.js';
import { JournalCorruptError } from './errors.js';
import { inspectJournal, RecordOrder, type Problem } from './inspect.js';
import { replayLegacy } from './legacy.js';
import { TAG_END, TAG_LEGACY, TAG_PART, type RecordAt } from './records.js';
import { RecordStream } from './record-stream.js';

// Longest stretch of entries re-executed before the event loop may run (loadJournalInSlices).
const SLICE_MS = 20;

/** What a replay found: where the valid records end, and how much is checkpoint and how much entries. */
export interface Replayed {
  format: 'current' | 'legacy';
  /** Bytes of the valid prefix (a torn tail after it was cut in memory, not on disk). */
  validBytes: number;
  /** Bytes of the checkpoint (its parts and end record). */
  checkpointBytes: number;
  /** Bytes of the entries after it. */
  entryBytes: number;
  entries: number;
  /** Milliseconds spent restoring the checkpoint, and re-executing the entries. */
  checkpointMs: number;
  entriesMs: number;
}

/**
 * Rebuilds in `host` the state a previous primary journaled: its checkpoint, then every
 * later entry re-executed in order. Returns false when there is no journal. A torn tail
 * is cut (and logged); any other damage throws JournalCorruptError.
 */
export function replayJournal<S>(file: string, host: ServiceHost<S>): boolean {
  return loadJournal(file, host) !== null;
}

/**
 * replayJournal, saying what it read (null: no journal). The file is read in chunks and each
 * record applied as it is read, so memory does not grow with the journal. Damage is found
 * where the reading reaches it: the host may then hold part of the state, and the caller
 * must not serve it (the file itself is never changed).
 */
export function loadJournal<S>(file: string, host: ServiceHost<S>): Replayed | null {
  const steps = replaySteps(file, host);
  for (;;) {
    const n = steps.next();
    if (n.done) return n.value;
  }
}

/**
 * loadJournal letting the event loop run every few milliseconds while it re-executes entries
 * (pings are answered: a long replay is seen to be alive). The checkpoint is restored in one
 * go, since the service's restore is one synchronous call.
 */
export async function loadJournalInSlices<S>(file: string, host: ServiceHost<S>): Promise<Replayed | null> {
  const steps = replaySteps(file, host);
  for (;;) {
    const n = steps.next();
    if (n.done) return n.value;
    await nextTurn();
  }
}

/** The replay, pausing (a yield) about every SLICE_MS while it re-executes entries. */
function* replaySteps<S>(file: string, host: ServiceHost<S>): Generator<void, Replayed | null> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const records = new RecordStream(fd);
    const first = records.next();
    if (first === null) return null;
    if (!('body' in first)) {
      // Nothing valid anywhere (a file of zeros) is no journal; damage before valid records is.
      if (records.validRecordAfter(first.offset)) throw new JournalCorruptError(file, first.offset, first.reason);
      return null;
    }
    if (first.body[0] === TAG_LEGACY) return loadLegacy(file, host);
    return yield* replayStream(file, records, first, host);
  } finally {
    fs.closeSync(fd);
  }
}

function* replayStream<S>(file: string, records: RecordStream, first: RecordAt, host: ServiceHost<S>): Generator<void, Replayed> {
  const order = new RecordOrder();
  let problem: Problem | null = null;
  let at = 0;
  let peeked: RecordAt | null = first;
  /** The next record in order, or null at the end of the valid ones (problem says why, if not the file's end). */
  const next = (): RecordAt | null => {
    if (problem) return null;
    const r = peeked ?? records.next();
    peeked = null;
    if (r === null) return null;
    at = r.offset;
    if (!('body' in r)) {
      problem = order.damaged(r, () => records.validRecordAfter(r.offset));
      return null;
    }
    const wrong = order.accept(r);
    if (wrong) {
      problem = { offset: r.offset, reason: wrong, tail: false };
      return null;
    }
    return r;
  };
  const corrupt = (p: Problem): JournalCorruptError => new JournalCorruptError(file, p.offset, p.reason);
  let entries = 0;
  try {
    const t0 = performance.now();
    // The checkpoint's parts, pulled by the service's restore as it reads them.
    restoreSnapshot(host, () => {
      const r = next();
      if (!r) throw corrupt(problem ?? { offset: records.offset, reason: 'the checkpoint is incomplete', tail: false });
      if (r.body[0] === TAG_END) return null;
      if (r.body[0] !== TAG_PART) throw corrupt({ offset: r.offset, reason: 'a record of another kind inside the checkpoint', tail: false });
      return r.body.subarray(1);
    });
    const checkpointBytes = records.offset;
    const t1 = performance.now();
    host.dedup.beginBulk();
    try {
      let until = performance.now() + SLICE_MS;
      for (let r = next(); r; r = next()) {
        host.apply(decodeEntry(r.body));
        // Checked every so many entries: the clock costs more than a small entry.
        if (++entries % 256 === 0 && performance.now() >= until) {
          yield;
          until = performance.now() + SLICE_MS;
        }
      }
    } finally {
      host.dedup.endBulk();
    }
    if (problem !== null && !(problem as Problem).tail) throw corrupt(problem);
    const validBytes = problem === null ? records.size : (problem as Problem).offset;
    if (problem !== null) {
      logLine('primary', 'journal-tail-cut', { file, offset: validBytes, bytes: records.size - validBytes, reason: (problem as Problem).reason });
    }
    const checkpointMs = Math.round(t1 - t0);
    const entriesMs = Math.round(performance.now() - t1);
    return { format: 'current', validBytes, checkpointBytes, entryBytes: validBytes - checkpointBytes, entries, checkpointMs, entriesMs };
  } catch (err) {
    if (err instanceof JournalCorruptError) throw err;
    throw new JournalCorruptError(file, at, (err as Error).message);
  }
}

/** An older version's JSON journal: small by nature, read whole. */
function loadLegacy<S>(file: string, host: ServiceHost<S>): Replayed {
  const t0 = performance.now();
  const data = fs.readFileSync(file);
  const ins = inspectJournal(data);
  if (ins.problem && !ins.problem.tail) throw new JournalCorruptError(file, ins.problem.offset, ins.problem.reason);
  replayLegacy(file, ins.records, host);
  const validBytes = ins.problem ? ins.problem.offset : data.length;
  if (ins.problem) logLine('primary', 'journal-tail-cut', { file, offset: validBytes, bytes: data.length - validBytes, reason: ins.problem.reason });
  return { format: 'legacy', validBytes, checkpointBytes: validBytes, entryBytes: 0, entries: 0, checkpointMs: Math.round(performance.now() - t0), entriesMs: 0 };
}

