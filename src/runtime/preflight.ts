import fs from 'node:fs';
import { OspsError } from '../errors.js';
import { ensureDataDir } from './data-dir.js';
import { checkEndpointUsable } from './endpoint.js';
import { readLock } from './lock.js';
import type { RuntimePaths } from './paths.js';

/**
 * The shm name is predictable and /dev/shm is open to everyone: an object of that name that
 * is not ours was planted. Ours (left by a dead tree) is the watchdog's to reclaim.
 */
function assertShmNotForeign(shmName: string): void {
  const file = `/dev/shm${shmName}`;
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return;
  const uid = process.getuid?.() ?? 0;
  const why = st.isSymbolicLink() ? 'it is a symlink' : !st.isFile() ? 'it is not a shm object' : st.uid !== uid ? `owned by uid ${st.uid}, not ${uid}` : null;
  if (why) throw new OspsError('SHM_UNSAFE', `refusing shm object ${file}: ${why}; remove it, or use another --name or --runtime-dir`);
}

/**
 * What `osps start` proves before it spawns anything, so that each refusal is one line
 * (exit 2) instead of a tree that fails at bind or opens a planted file: the client
 * endpoint can be bound, no one else holds the instance's shm name, and the data dir is
 * ours and private. Creates the data dir.
 */
export async function preflightStart(cfg: { endpoint: string; dataDir: string }, paths: RuntimePaths): Promise<void> {
  try {
    await checkEndpointUsable(cfg.endpoint);
  } catch (err) {
    // Our own running instance holds the port: say that, as the launcher would.
    const holder = err instanceof OspsError && err.code === 'ENDPOINT_IN_USE' ? readLock(paths.lockFile) : null;
    if (holder?.live) throw new OspsError('ALREADY_RUNNING', `already running (pid ${holder.pid})`, { pid: holder.pid });
    throw err;
  }
  assertShmNotForeign(paths.shmName);
  ensureDataDir(cfg.dataDir);
}
