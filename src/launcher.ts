import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Config } from './config.js';
import { OspsError } from './errors.js';
import { acquireLock, readLock, releaseLock } from './runtime/lock.js';
import { ensureRuntimeDir } from './runtime/dir.js';
import { ensureDataDir } from './runtime/data-dir.js';
import type { RuntimePaths } from './runtime/paths.js';
import { WATCHDOG_MAIN } from './runtime/entries.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSameProcess } from './runtime/proc.js';
import { readState } from './watchdog/state-file.js';
import { RestartPolicy } from './watchdog/restart-policy.js';
import { EXIT_DATA_REFUSED, EXIT_GAVE_UP, EXIT_START_FAILED } from './protocol/exit-codes.js';
import { createNotifier, withoutNotifyEnv } from './systemd/notify.js';
import { SystemdLink } from './systemd/link.js';

/** Servers the last watchdog recorded that are still alive (same pid and start time). */
function liveRecordedServers(paths: RuntimePaths): number[] {
  const state = readState(paths.stateFile);
  return (state?.children ?? []).filter((c) => c.startTime !== null && isSameProcess(c.pid, c.startTime)).map((c) => c.pid);
}

/** How often an adopted watchdog (not our child: no exit event) is checked for life. */
const ADOPTED_WATCHDOG_POLL_MS = 50;

/**
 * A watchdog whose launcher died (killed, or restarted by systemd under KillMode=process)
 * still runs the instance. Returns its pid when this launcher may take it over, null when
 * there is none; refuses when its launcher is alive (the instance is really running).
 */
function orphanedWatchdog(paths: RuntimePaths): number | null {
  const state = readState(paths.stateFile);
  if (!state || state.watchdogStartTime === null || !isSameProcess(state.watchdogPid, state.watchdogStartTime)) return null;
  if (state.launcherPid !== null && state.launcherPid !== process.pid && isSameProcess(state.launcherPid, null)) {
    throw new OspsError('ALREADY_RUNNING', `already running (pid ${state.launcherPid})`, { pid: state.launcherPid });
  }
  return state.watchdogPid;
}

/** Resolves when `pid` (same start time) is gone, polling /proc: it is not our child. */
async function watchForeign(pid: number, startTime: number | null): Promise<void> {
  while (isSameProcess(pid, startTime)) await sleep(ADOPTED_WATCHDOG_POLL_MS);
}

/** The systemd side (Type=notify), when NOTIFY_SOCKET says we run under it; null otherwise. */
async function systemdLink(paths: RuntimePaths): Promise<SystemdLink | null> {
  const notifier = await createNotifier();
  if (!notifier) return null;
  return new SystemdLink({
    notifier,
    probe: async () => {
      // Loaded lazily: zeromq stays out of a launcher that is not under systemd.
      const { adminRequest } = await import('./client/admin-client.js');
      const r = await adminRequest(paths, { op: 'status' }, 500);
      return r?.ok && typeof r.result === 'object' && r.result !== null ? (r.result as never) : null;
    },
  }).start();
}

/** Loaded only when needed: it pulls in the shm addon, which the launcher otherwise never maps. */
async function stopRecordedTree(paths: RuntimePaths, say: Say): Promise<void> {
  const { stopRecordedTree: stop } = await import('./watchdog/recorded-tree.js');
  await stop(paths, say);
}

/**
 * V8's lite mode trades speed for memory (no optimizing compiler, feedback allocated lazily):
 * the watchdog runs little code, rarely, and so keeps ~5 MiB less resident (measured). Lite
 * mode turns WebAssembly off; saying so too keeps V8 from warning about it on stderr.
 */
const WATCHDOG_V8_FLAGS = ['--lite-mode', '--no-expose-wasm'];

export type Say = (line: string) => void;

/**
 * The watchdog process, with the V8 flags that keep it small. node:child_process, not execa:
 * execa's import alone costs the start of every instance ~100 ms.
 */
function spawnWatchdog(cfg: Config): ChildProcess {
  const child = spawn(process.execPath, [...WATCHDOG_V8_FLAGS, WATCHDOG_MAIN], {
    // systemd's variables are the launcher's: a child must not notify in its name.
    env: withoutNotifyEnv({ ...process.env, OSPS_CONFIG: JSON.stringify(cfg), OSPS_LAUNCHER_PID: String(process.pid) }),
    stdio: 'inherit',
  });
  // A failed spawn is reported through exitOf; never an uncaught 'error'.
  child.on('error', () => {});
  return child;
}

/** How a child ended; a spawn that failed counts as an exit with no code. */
function exitOf(child: ChildProcess): Promise<{ exitCode: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ exitCode: code, signal }));
    child.once('error', () => resolve({ exitCode: null, signal: null }));
  });
}

/**
 * The launcher: holds the single-instance lock, runs the watchdog and starts a new one
 * (which adopts the running servers) whenever it dies; forwards Ctrl-C and SIGTERM to it.
 * Returns the exit code the CLI reports.
 */
export async function runLauncher(cfg: Config & { dataDir: string }, paths: RuntimePaths, say: Say): Promise<number> {
  ensureRuntimeDir(paths);
  const holder = readLock(paths.lockFile);
  if (holder?.live) throw new OspsError('ALREADY_RUNNING', `already running (pid ${holder.pid})`);
  // A watchdog whose launcher died still runs the instance: never start a second one beside
  // it. Its servers keep serving; this launcher takes it over, and when it dies, its
  // successor adopts them as usual.
  let adopted = orphanedWatchdog(paths);
  acquireLock(paths.lockFile, (pid) => say(`reclaimed stale lock ${paths.lockFile} (pid ${pid} is gone)`));
  say(
    adopted === null
      ? `starting instance '${cfg.name}' on ${cfg.endpoint} (launcher pid ${process.pid})`
      : `instance '${cfg.name}' is running without its launcher: taking over watchdog pid ${adopted} (launcher pid ${process.pid})`,
  );
  ensureDataDir(cfg.dataDir);
  const link = await systemdLink(paths);
  let watchdog: ChildProcess | null = null;
  let stopping = false;
  const wake = new AbortController();
  const forward = (): void => {
    stopping = true;
    wake.abort();
    const pid = watchdog?.pid ?? adopted;
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
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
      if (adopted !== null) {
        // Not our child: no exit code. Gone with no live server and no state left = it stopped.
        const pid = adopted;
        await watchForeign(pid, readState(paths.stateFile)?.watchdogStartTime ?? null);
        adopted = null;
        if (liveRecordedServers(paths).length === 0 && !fs.existsSync(paths.stateFile)) return 0;
        if (stopping) break;
        say(`the watchdog (pid ${pid}) is gone; starting a new one to adopt the servers`);
        continue;
      }
      watchdog = spawnWatchdog(cfg);
      void link?.refresh();
      const result = await exitOf(watchdog);
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
      // The cap stays well under the servers' orphan timeout, so a new watchdog adopts them in time.
      backoff = Math.min(cfg.watchdogBackoffMaxMs, cfg.orphanTimeoutMs / 4, backoff === 0 ? cfg.watchdogBackoffMs : backoff * 2);
      say(`the watchdog keeps dying (last: ${how}); the servers (pids ${servers.join(', ')}) keep serving; next watchdog in ${backoff} ms`);
      await sleep(backoff, undefined, { signal: wake.signal }).catch(() => {});
      if (stopping) break;
    }
    // Asked to stop while no watchdog ran: stop what the last one recorded.
    await stopRecordedTree(paths, say);
    return 1;
  } finally {
    link?.stop();
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
