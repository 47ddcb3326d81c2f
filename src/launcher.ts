import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { Config } from './config.js';
import { OspsError } from './errors.js';
import { acquireLock, readLock, releaseLock } from './runtime/lock.js';
import { ensureRuntimeDir } from './runtime/dir.js';
import { ensureDataDir } from './runtime/data-dir.js';
import type { RuntimePaths } from './runtime/paths.js';
import { liveRecordedWatchdog } from './watchdog/state-file.js';
import { RestartPolicy } from './watchdog/restart-policy.js';
import { EXIT_GAVE_UP, EXIT_START_FAILED } from './protocol/exit-codes.js';

/** Loaded only when needed: it pulls in the shm addon, which the launcher otherwise never maps. */
async function stopRecordedTree(paths: RuntimePaths, say: Say): Promise<void> {
  const { stopRecordedTree: stop } = await import('./watchdog/recorded-tree.js');
  await stop(paths, say);
}

const WATCHDOG_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'watchdog', 'main.js');

export type Say = (line: string) => void;

/**
 * The launcher: holds the single-instance lock, runs the watchdog and starts a new one
 * (which adopts the running servers) whenever it dies; forwards Ctrl-C and SIGTERM to it.
 * Returns the exit code the CLI reports.
 */
export async function runLauncher(cfg: Config & { dataDir: string }, paths: RuntimePaths, say: Say): Promise<number> {
  ensureRuntimeDir(paths);
  const holder = readLock(paths.lockFile);
  if (holder?.live) throw new OspsError('ALREADY_RUNNING', `already running (pid ${holder.pid})`);
  // A watchdog whose launcher was killed still runs the instance: never start a second one.
  const orphanWatchdog = liveRecordedWatchdog(paths);
  if (orphanWatchdog !== null) throw new OspsError('ALREADY_RUNNING', `already running (pid ${orphanWatchdog})`);
  acquireLock(paths.lockFile, (pid) => say(`reclaimed stale lock ${paths.lockFile} (pid ${pid} is gone)`));
  say(`starting instance '${cfg.name}' on ${cfg.endpoint} (launcher pid ${process.pid})`);
  ensureDataDir(cfg.dataDir);
  let watchdog: ResultPromise | null = null;
  let stopping = false;
  const forward = (): void => {
    stopping = true;
    if (watchdog?.pid) {
      try {
        process.kill(watchdog.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  // The launcher's own intensity: a watchdog that cannot stay up is not restarted forever.
  const policy = new RestartPolicy(cfg.maxRestarts, cfg.restartWindowMs);
  try {
    for (;;) {
      watchdog = execa(process.execPath, [WATCHDOG_MAIN], {
        env: { OSPS_CONFIG: JSON.stringify(cfg), OSPS_LAUNCHER_PID: String(process.pid) },
        stdio: 'inherit',
        reject: false,
        cleanup: false,
      });
      const result = await watchdog;
      if (result.exitCode === 0 || result.exitCode === EXIT_GAVE_UP) return result.exitCode;
      if (result.exitCode === EXIT_START_FAILED) return 1;
      if (stopping) break;
      const how = result.signal ?? `exit ${result.exitCode}`;
      if (!policy.allow()) {
        say(`giving up: the watchdog kept dying (last: ${how})`);
        await stopRecordedTree(paths, say);
        return EXIT_GAVE_UP;
      }
      say(`the watchdog died (${how}); starting a new one to adopt the servers`);
    }
    await stopRecordedTree(paths, say);
    return 1;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    releaseLock(paths.lockFile);
    try {
      fs.rmdirSync(paths.dir);
    } catch {
      // something is left: `osps cleanup` reports it
    }
  }
}
