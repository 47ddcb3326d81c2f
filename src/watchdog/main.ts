// Watchdog process entry: the launcher passes the resolved config; we run until stopped.
import '../runtime/no-inspector.js';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeRecord } from '../log-file.js';
import { resolveConfig, type Config } from '../config.js';
import { runtimePaths } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { planStart, type AdoptionPlan } from './adopt.js';
import { EventLog, type WatchdogEvent } from './events.js';
import { EXIT_START_FAILED } from '../protocol/exit-codes.js';
import { Watchdog } from './watchdog.js';

/** How long servers that cannot be adopted get to die after SIGKILL before we give up starting. */
const FENCE_WAIT_MS = 5000;
/** Events logged at `warn` in the log file. */
const PROBLEM_EVENTS = new Set(['ping-missed', 'exited', 'detected', 'fenced', 'link-lost', 'memory-ceiling', 'give-up', 'standby-cooldown']);

const raw = process.env.OSPS_CONFIG;
if (!raw) {
  process.stderr.write('osps watchdog: started without OSPS_CONFIG; use `osps start`\n');
  process.exit(2);
}
const cfg = resolveConfig(JSON.parse(raw) as Partial<Config>) as Config & { dataDir: string };
const paths = runtimePaths(cfg.name, cfg.runtimeRoot);
// The JSON-lines log of the instance, for this process and (inherited) its servers.
process.env.OSPS_LOG_DIR = path.join(cfg.dataDir, 'logs');
process.env.OSPS_LOG_FILE_BYTES = String(cfg.logFileBytes);
process.env.OSPS_LOG_FILES = String(cfg.logFiles);
const launcherPid = process.env.OSPS_LAUNCHER_PID ? Number(process.env.OSPS_LAUNCHER_PID) : null;
const events = new EventLog(paths.eventsFile, process.stdout, cfg.eventFormat);
// The log file's first record loads pino (tens of ms): records are written a turn later, so
// at start the servers are spawned first; whatever is left is written at exit.
const unwritten: WatchdogEvent[] = [];
const writeUnwritten = (): void => {
  for (const e of unwritten.splice(0)) writeRecord(PROBLEM_EVENTS.has(e.event) ? 'warn' : 'info', { kind: 'event', ...e });
};
events.subscribe((e) => {
  if (unwritten.push(e) === 1) setImmediate(writeUnwritten);
});
process.on('exit', writeUnwritten);
const watchdog = new Watchdog(cfg, paths, events, launcherPid);

// Whoever reads our event lines may go away (a closed pipe): keep supervising regardless.
process.stdout.on('error', () => {});

// SIGHUP (the terminal of a foreground `start` closed) stops the tree gracefully, like
// SIGTERM: a supervisor whose operator is gone should leave nothing behind, not run on
// unseen. Run it detached (systemd, nohup, setsid) to keep it past the terminal.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void watchdog.stop(0));

let plan: AdoptionPlan | null = null;
try {
  const start = planStart(paths, cfg.endpoint, launcherPid);
  if (start.kind === 'adopt') plan = start.plan;
  // Live servers of ours with no shm ring to share cannot be adopted: fence them (verified
  // by start time), and reclaim only once they are gone.
  for (const p of start.kind === 'fresh' ? start.fence : []) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    const deadline = Date.now() + FENCE_WAIT_MS;
    while (isSameProcess(p.pid, p.startTime) && Date.now() < deadline) await sleep(20);
    if (isSameProcess(p.pid, p.startTime)) throw new Error(`pid ${p.pid} (${p.why}) would not die; nothing reclaimed`);
    events.emit('fenced', { role: p.role ?? 'server', pid: p.pid, cause: 'not adoptable: no shm object' });
  }
} catch (err) {
  process.stderr.write(`osps: ${(err as Error).message}\n`);
  process.exit(EXIT_START_FAILED);
}
watchdog
  .start(plan)
  .catch(async (err: Error) => {
    process.stderr.write(`osps: watchdog failed to start: ${err.message}\n`);
    await watchdog.stop(EXIT_START_FAILED);
  });
const code = await watchdog.done;
process.exit(code);
