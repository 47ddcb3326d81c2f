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
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcess } from './runtime/proc.js';
import { liveRecordedWatchdog, readState } from './watchdog/state-file.js';
import { RestartPolicy } from './watchdog/restart-policy.js';
import { EXIT_DATA_REFUSED, EXIT_GAVE_UP, EXIT_START_FAILED } from './protocol/exit-codes.js';

/** First pause before restarting a watchdog that keeps dying; it doubles up to a cap. */
const WATCHDOG_BACKOFF_MS = 100;
/** The cap stays well under the servers' orphan timeout, so a new watchdog adopts them in time. */
const WATCHDOG_BACKOFF_MAX_MS = 5000;

/** Servers the last watchdog recorded that are still alive (same pid and start time). */
function liveRecordedServers(paths: RuntimePaths): number[] {
  const state = readState(paths.stateFile);
  return (state?.children ?? []).filter((c) => c.startTime !== null && isSameProcess(c.pid, c.startTime)).map((c) => c.pid);
}

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
  const wake = new AbortController();
  const forward = (): void => {
    stopping = true;
    wake.abort();
    if (watchdog?.pid) {
      try {
        process.kill(watchdog.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  // SIGHUP (the terminal of a foreground `start` closed) stops the tree gracefully, like
  // SIGTERM; the watchdog, in the same process group, gets it too and does the same. To keep
  // an instance past its terminal, run it detached (systemd, nohup, setsid).
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, forward);
  // With the terminal gone, writes to it fail (EIO): that must not kill the launcher mid-stop.
  const ignore = (): void => {};
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
  // The control plane's own intensity: a watchdog that keeps dying is restarted with a growing
  // pause, and the servers are never killed for it while they live (the data plane is healthy;
  // their orphan timeout bounds how long they run unsupervised). Only when no server is left
  // is there nothing to protect, and the launcher gives up.
  const policy = new RestartPolicy(cfg.maxRestarts, cfg.restartWindowMs);
  let backoff = 0;
  try {
    for (;;) {
      watchdog = execa(process.execPath, [WATCHDOG_MAIN], {
        env: { OSPS_CONFIG: JSON.stringify(cfg), OSPS_LAUNCHER_PID: String(process.pid) },
        stdio: 'inherit',
        reject: false,
        cleanup: false,
      });
      const result = await watchdog;
      watchdog = null;
      if (result.exitCode === 0 || result.exitCode === EXIT_GAVE_UP) return result.exitCode;
      if (result.exitCode === EXIT_START_FAILED) return 1;
      // The data on disk was refused (the watchdog said why in one line): a usage matter, exit 2.
      if (result.exitCode === EXIT_DATA_REFUSED) return 2;
      if (stopping) break;
      const how = result.signal ?? `exit ${result.exitCode}`;
      if (policy.allow()) {
        backoff = 0;
        say(`the watchdog died (${how}); starting a new one to adopt the servers`);
        continue;
      }
      const servers = liveRecordedServers(paths);
      if (servers.length === 0) {
        say(`giving up: the watchdog kept dying (last: ${how}) and no server is left`);
        await stopRecordedTree(paths, say);
        return EXIT_GAVE_UP;
      }
      backoff = Math.min(WATCHDOG_BACKOFF_MAX_MS, cfg.orphanTimeoutMs / 4, backoff === 0 ? WATCHDOG_BACKOFF_MS : backoff * 2);
      say(`the watchdog keeps dying (last: ${how}); the servers (pids ${servers.join(', ')}) keep serving; next watchdog in ${backoff} ms`);
      await sleep(backoff, undefined, { signal: wake.signal }).catch(() => {});
      if (stopping) break;
    }
    // Asked to stop while no watchdog ran: stop what the last one recorded.
    await stopRecordedTree(paths, say);
    return 1;
  } finally {
    for (const sig of signals) process.off(sig, forward);
    process.stdout.off('error', ignore);
    process.stderr.off('error', ignore);
    releaseLock(paths.lockFile);
    try {
      fs.rmdirSync(paths.dir);
    } catch {
      // something is left: `osps cleanup` reports it
    }
  }
}
