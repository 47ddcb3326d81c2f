// The primitives faults are made of: signals that wait until they took effect, and a FIFO swap.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { OspsError } from '../errors.js';
import { makeFifo } from '../ipc/fifo.js';
import { isAlive } from '../runtime/proc.js';

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    throw new OspsError('SIGNAL_FAILED', `cannot send ${sig} to pid ${pid}: ${(err as Error).message}`);
  }
}

/**
 * SIGKILL and wait (up to 2 s) until the process is gone or a zombie. kill(2) only queues the
 * signal: tearing down a large address space takes a while, and a caller that checks right after
 * the command returns must not find the process still there.
 */
export async function killAndWait(pid: number): Promise<string> {
  signal(pid, 'SIGKILL');
  const t0 = Date.now();
  while (isAlive(pid)) {
    if (Date.now() - t0 > 2000) return 'SIGKILL (still present after 2 s)';
    await sleep(2);
  }
  return 'SIGKILL';
}

/** SIGSTOP, then SIGCONT after `forMs` (if the process still exists: the watchdog may have fenced it). */
export async function stopFor(pid: number, forMs: number | undefined): Promise<string> {
  signal(pid, 'SIGSTOP');
  if (forMs === undefined) return 'stopped (no SIGCONT)';
  await sleep(forMs);
  try {
    process.kill(pid, 'SIGCONT');
    return `stopped for ${forMs} ms, then continued`;
  } catch {
    return `stopped; gone before SIGCONT after ${forMs} ms (fenced)`;
  }
}

/** A new FIFO next to `file`, to be renamed over it. */
export async function makeSpareFifo(file: string): Promise<string> {
  const spare = `${file}.chaos-${process.pid}`;
  await makeFifo(spare);
  return spare;
}

/**
 * Puts the spare FIFO at `file` in one step: unlinking first and then creating would leave a
 * window in which the servers see the path gone and the watchdog recreates it.
 */
export function renameOver(spare: string, file: string): void {
  try {
    fs.renameSync(spare, file);
  } catch (err) {
    fs.rmSync(spare, { force: true });
    throw err;
  }
}

/** A frame with a bad prefix: it desynchronises the stream for good, so the reader must drop the link. */
export function writeCorruptFrame(file: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    fs.writeSync(fd, Buffer.from('CUT!CUT!'));
  } finally {
    fs.closeSync(fd);
  }
}
