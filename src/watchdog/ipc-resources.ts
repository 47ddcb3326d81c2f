import fs from 'node:fs';
import type { Config } from '../config.js';
import { makeFifo, removeFifo } from '../ipc/fifo.js';
import { ShmRing } from '../ipc/shm-ring.js';
import { ensureRuntimeDir } from '../runtime/dir.js';
import type { RuntimePaths } from '../runtime/paths.js';
import type { EventLog } from './events.js';

function socketFile(endpoint: string): string {
  return endpoint.slice('ipc://'.length);
}

/**
 * Creates the instance's FIFOs and shm ring, reclaiming whatever a crashed predecessor
 * left behind (and saying so, one event per object).
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
  await makeFifo(paths.p2sFifo);
  await makeFifo(paths.s2pFifo);
  return ShmRing.create({ shmName: paths.shmName, instance: paths.name, capacityBytes: cfg.ringBytes });
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
  // Last words of servers that died while we were stopping: read by nobody now.
  for (const f of fs.existsSync(paths.dir) ? fs.readdirSync(paths.dir) : []) {
    if (/^last-words-\d+\.json$/.test(f)) fs.rmSync(`${paths.dir}/${f}`, { force: true });
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
