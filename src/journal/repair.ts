import fs from 'node:fs';
import { inspectJournal } from './inspect.js';
import { syncDir } from './files.js';
import path from 'node:path';

export interface RepairReport {
  file: string;
  /** Nothing to repair: the journal is valid (or absent). */
  clean: boolean;
  /** Where the journal was cut, and why the bytes there were not valid. */
  offset: number | null;
  reason: string | null;
  /** Bytes kept, and bytes dropped from the end. */
  keptBytes: number;
  droppedBytes: number;
  /** The untouched original, kept beside the journal; null when nothing was changed. */
  backup: string | null;
  /** False when the damage was inside the checkpoint: no state could be kept, the journal is emptied. */
  stateKept: boolean;
}

/**
 * Cuts a damaged journal at its first invalid record, after copying the original to
 * `<file>.corrupt-<time>` (what `osps repair` does; the server itself never cuts more than a
 * torn tail). A cut inside the checkpoint leaves no usable state: the journal is emptied.
 * Run only while the instance is stopped.
 */
export function repairJournal(file: string, now: Date = new Date()): RepairReport {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { file, clean: true, offset: null, reason: null, keptBytes: 0, droppedBytes: 0, backup: null, stateKept: true };
  }
  const ins = inspectJournal(data);
  if (!ins.problem) {
    return { file, clean: true, offset: null, reason: null, keptBytes: data.length, droppedBytes: 0, backup: null, stateKept: true };
  }
  const { offset, reason } = ins.problem;
  const stateKept = ins.format === 'legacy' || ins.checkpointEnd >= 0;
  const keep = stateKept ? offset : 0;
  const backup = `${file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
  // The copy is complete and durable before the journal is touched.
  fs.copyFileSync(file, backup, fs.constants.COPYFILE_EXCL);
  const fd = fs.openSync(backup, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(file, keep);
  const jfd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(jfd);
  } finally {
    fs.closeSync(jfd);
  }
  syncDir(path.dirname(file));
  return { file, clean: false, offset, reason, keptBytes: keep, droppedBytes: data.length - keep, backup, stateKept };
}
