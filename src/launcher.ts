import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { Config } from './config.js';
import { acquireLock, releaseLock } from './runtime/lock.js';
import { ensureRuntimeDir } from './runtime/dir.js';
import type { RuntimePaths } from './runtime/paths.js';
import { EXIT_GAVE_UP } from './watchdog/watchdog.js';
import { stopRecordedTree } from './watchdog/recorded-tree.js';

const WATCHDOG_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'watchdog', 'main.js');

export type Say = (line: string) => void;

/**
 * The launcher: holds the single-instance lock, runs the watchdog, forwards Ctrl-C and
 * SIGTERM to it, and returns the exit code the CLI reports.
 */
export async function runLauncher(cfg: Config & { dataDir: string }, paths: RuntimePaths, say: Say): Promise<number> {
  ensureRuntimeDir(paths);
  acquireLock(paths.lockFile, (pid) => say(`reclaimed stale lock ${paths.lockFile} (pid ${pid} is gone)`));
  fs.mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
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
  try {
    watchdog = execa(process.execPath, [WATCHDOG_MAIN], {
      env: { OSPS_CONFIG: JSON.stringify(cfg), OSPS_LAUNCHER_PID: String(process.pid) },
      stdio: 'inherit',
      reject: false,
      cleanup: false,
    });
    const result = await watchdog;
    if (result.exitCode === 0) return 0;
    if (result.exitCode === EXIT_GAVE_UP) return EXIT_GAVE_UP;
    if (!stopping) {
      say(`the watchdog died (${result.signal ?? `exit ${result.exitCode}`}); stopping the servers it recorded`);
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
