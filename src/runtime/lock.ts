import fs from 'node:fs';
import { OspsError, isErrnoException } from '../errors.js';
import { isAlive, processCmdline, processStartTime } from './proc.js';

interface LockRecord {
  pid: number;
  startTime: number | null;
  program: 'osps-launcher';
}

export type LockHolder = { pid: number; live: boolean };

/** Whether the recorded pid is still the launcher that wrote the lock (not a reused pid). */
function holderAlive(rec: LockRecord): boolean {
  if (!isAlive(rec.pid)) return false;
  if (rec.startTime !== null && processStartTime(rec.pid) !== rec.startTime) return false;
  const cmd = processCmdline(rec.pid).join(' ');
  return /launcher\.js|osps/.test(cmd);
}

export function readLock(file: string): LockHolder | null {
  let rec: LockRecord;
  try {
    rec = JSON.parse(fs.readFileSync(file, 'utf8')) as LockRecord;
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return null;
    // Unreadable or torn: nobody can prove they hold it.
    return { pid: 0, live: false };
  }
  return { pid: rec.pid, live: holderAlive(rec) };
}

/**
 * Takes the single-instance lock (O_EXCL). A lock whose holder is dead, or whose pid now
 * belongs to another program, is reclaimed; `onReclaim` says so.
 */
export function acquireLock(file: string, onReclaim: (pid: number) => void): void {
  const rec: LockRecord = { pid: process.pid, startTime: processStartTime(process.pid), program: 'osps-launcher' };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
      fs.writeSync(fd, JSON.stringify(rec));
      fs.closeSync(fd);
      return;
    } catch (err) {
      if (!(isErrnoException(err) && err.code === 'EEXIST')) throw err;
    }
    const holder = readLock(file);
    if (holder?.live) throw new OspsError('ALREADY_RUNNING', `already running (pid ${holder.pid})`, { pid: holder.pid });
    fs.rmSync(file, { force: true });
    onReclaim(holder?.pid ?? 0);
  }
  throw new OspsError('LOCK_FAILED', `could not take the lock ${file}`);
}

export function releaseLock(file: string): void {
  const holder = readLock(file);
  if (holder && holder.pid === process.pid) fs.rmSync(file, { force: true });
}
