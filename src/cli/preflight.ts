import { OspsError } from '../errors.js';
import { checkShmOwner } from '../ipc/shm/inspect.js';
import { ensureDataDir } from '../runtime/data-dir.js';
import { checkEndpointExposure, loadCurveSecret } from '../runtime/curve-key.js';
import { checkEndpointUsable } from '../runtime/endpoint.js';
import { readLock } from '../runtime/lock.js';
import { checkRespUsable } from '../runtime/resp-address.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { liveRecordedWatchdog } from '../watchdog/state-file.js';
import { checkMetricsBindable } from './metrics-preflight.js';

/**
 * What `osps start` proves before it spawns anything, so that each refusal is one line
 * (exit 2) instead of a tree that fails at bind or opens a planted file: the client
 * endpoint can be bound, no one else holds the instance's shm name, and the data dir is
 * ours and private, and an endpoint other hosts can reach has a CURVE key of ours (or the
 * operator accepted the risk). Creates the data dir.
 */
export async function preflightStart(
  cfg: { endpoint: string; resp?: string; dataDir: string; metrics?: string; curveSecretFile?: string; insecureEndpoint?: boolean },
  paths: RuntimePaths,
): Promise<void> {
  checkEndpointExposure(cfg.endpoint, cfg.curveSecretFile, cfg.insecureEndpoint === true);
  if (cfg.curveSecretFile !== undefined) loadCurveSecret(cfg.curveSecretFile);
  // A live watchdog whose launcher died holds the endpoint, RESP and metrics ports: ours to take over.
  const orphan = liveRecordedWatchdog(paths) !== null;
  try {
    await checkEndpointUsable(cfg.endpoint);
  } catch (err) {
    // Our own running instance holds the port: say that, as the launcher would.
    const inUse = err instanceof OspsError && err.code === 'ENDPOINT_IN_USE';
    const holder = inUse ? readLock(paths.lockFile) : null;
    if (holder?.live) throw new OspsError('ALREADY_RUNNING', `already running (pid ${holder.pid})`, { pid: holder.pid });
    // Held by our own instance whose launcher died: the launcher takes its watchdog over.
    if (!inUse || !orphan) throw err;
  }
  if (cfg.resp !== undefined && !orphan) await checkRespUsable(cfg.resp);
  // The shm name is predictable and /dev/shm open to everyone: an object there that is not
  // ours was planted (ours, left by a dead tree, is the watchdog's to reclaim).
  checkShmOwner(paths.shmName);
  if (cfg.metrics && !orphan) await checkMetricsBindable(cfg.metrics);
  ensureDataDir(cfg.dataDir);
}
