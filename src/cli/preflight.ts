import { OspsError } from '../errors.js';
import { checkShmOwner } from '../ipc/shm/inspect.js';
import { ensureDataDir } from '../runtime/data-dir.js';
import { checkEndpointUsable } from '../runtime/endpoint.js';
import { readLock } from '../runtime/lock.js';
import { checkRespUsable } from '../runtime/resp-address.js';
import type { RuntimePaths } from '../runtime/paths.js';

/**
 * What `osps start` proves before it spawns anything, so that each refusal is one line
 * (exit 2) instead of a tree that fails at bind or opens a planted file: the client
 * endpoint can be bound, no one else holds the instance's shm name, and the data dir is
 * ours and private. Creates the data dir.
 */
export async function preflightStart(cfg: { endpoint: string; resp?: string; dataDir: string }, paths: RuntimePaths): Promise<void> {
  try {
    await checkEndpointUsable(cfg.endpoint);
  } catch (err) {
    // Our own running instance holds the port: say that, as the launcher would.
    const holder = err instanceof OspsError && err.code === 'ENDPOINT_IN_USE' ? readLock(paths.lockFile) : null;
    if (holder?.live) throw new OspsError('ALREADY_RUNNING', `already running (pid ${holder.pid})`, { pid: holder.pid });
    throw err;
  }
  if (cfg.resp !== undefined) await checkRespUsable(cfg.resp);
  // The shm name is predictable and /dev/shm open to everyone: an object there that is not
  // ours was planted (ours, left by a dead tree, is the watchdog's to reclaim).
  checkShmOwner(paths.shmName);
  ensureDataDir(cfg.dataDir);
}
