import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { makeFifo, removeFifo } from '../ipc/fifo.js';
import { ShmRing } from '../ipc/shm-ring.js';
import { ensureRuntimeDir } from '../runtime/dir.js';
import type { RuntimePaths } from '../runtime/paths.js';
import type { EventLog } from './events.js';
import { logLine } from '../log.js';

function socketFile(endpoint: string): string {
  return endpoint.slice('ipc://'.length);
}

/**
 * Creates the instance's shm ring, reclaiming whatever a crashed predecessor left behind
 * (and saying so, one event per object), FIFOs included; createFifos makes the new ones.
 */
export async function createIpc(paths: RuntimePaths, cfg: Config, events: EventLog): Promise<ShmRing> {
  ensureRuntimeDir(paths);
  for (const fifo of [paths.p2sFifo, paths.s2pFifo]) {
    if (await removeFifo(fifo)) events.emit('reclaimed', { kind: 'fifo', path: fifo });
  }
  for (const sock of [paths.watchdogEndpoint, paths.controlEndpoint].map(socketFile)) {
    if (fs.existsSync(sock)) {
      fs.rmSync(sock, { force: true });
      events.emit('reclaimed', { kind: 'socket', path: sock });
    }
  }
  if (ShmRing.exists(paths.shmName)) {
    ShmRing.reclaim(paths.shmName, { force: true });
    events.emit('reclaimed', { kind: 'shm', name: paths.shmName });
  }
  return ShmRing.create({ shmName: paths.shmName, instance: paths.name, capacityBytes: cfg.ringBytes });
}

/**
 * The instance's two FIFOs, side by side: each is a process (mkfifo), so a fresh start makes
 * them while its primary boots. The promise is marked handled: whoever awaits it later still
 * sees a failure, and until then it is no unhandled rejection.
 */
export function createFifos(paths: RuntimePaths): Promise<void> {
  const made = Promise.all([makeFifo(paths.p2sFifo), makeFifo(paths.s2pFifo)]).then(() => {});
  made.catch(() => {});
  return made;
}

/**
 * Before a server is spawned after a failure: each FIFO must be at its path again, and be
 * ours (a FIFO, mode 0600, our uid), and the shm header must still say what it was created
 * with, or the new server could not attach. An unlinked FIFO is recreated, anything else
 * there that is a FIFO replaced, damaged header fields rewritten; one `repaired` event each.
 */
export async function repairIpc(paths: RuntimePaths, ring: ShmRing | null, events: EventLog): Promise<void> {
  const fields = ring?.repairHeader() ?? [];
  if (fields.length > 0) events.emit('repaired', { kind: 'shm-header', name: paths.shmName, fields: fields.join(',') });
  for (const fifo of [paths.p2sFifo, paths.s2pFifo]) {
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(fifo);
    } catch {
      // missing: recreated below
    }
    if (st && st.isFIFO() && (st.mode & 0o777) === 0o600 && st.uid === process.getuid?.()) continue;
    try {
      if (st) await removeFifo(fifo);
      await makeFifo(fifo);
      events.emit('repaired', { kind: 'fifo', path: fifo, was: st ? 'replaced' : 'missing' });
    } catch (err) {
      // A file that is not a FIFO is left alone: the standby then fails to pair, visibly.
      logLine('watchdog', 'fifo-repair-failed', { path: fifo, error: (err as Error).message });
    }
  }
}

/** Removes every IPC object of the instance; returns what it removed. */
export async function destroyIpc(paths: RuntimePaths, ring: ShmRing | null): Promise<string[]> {
  const removed: string[] = [];
  ring?.detach();
  if (ShmRing.destroy(paths.shmName)) removed.push('shm');
  for (const fifo of [paths.p2sFifo, paths.s2pFifo]) {
    try {
      if (await removeFifo(fifo)) removed.push('fifo');
    } catch {
      // not a fifo: leave the operator's file alone
    }
  }
  for (const sock of [paths.watchdogEndpoint, paths.controlEndpoint].map(socketFile)) {
    if (fs.existsSync(sock)) {
      fs.rmSync(sock, { force: true });
      removed.push('socket');
    }
  }
  for (const f of [paths.stateFile, paths.eventsFile]) fs.rmSync(f, { force: true });
  // Last words of servers that died while we were stopping: read by nobody now. And a state
  // file half-written by a watchdog killed between its write and its rename.
  const stateTmp = `${path.basename(paths.stateFile)}.`;
  for (const f of fs.existsSync(paths.dir) ? fs.readdirSync(paths.dir) : []) {
    if (/^last-words-\d+\.json$/.test(f) || (f.startsWith(stateTmp) && /\.\d+\.tmp$/.test(f))) fs.rmSync(`${paths.dir}/${f}`, { force: true });
  }
  // The lock belongs to the launcher; the dir goes when nothing else is in it.
  try {
    fs.rmdirSync(paths.dir);
    removed.push('dir');
  } catch {
    // the launcher's lock is still there; the launcher removes the dir
  }
  return removed;
}
