// Watchdog process entry: the launcher passes the resolved config; we run until stopped.
import { resolveConfig, type Config } from '../config.js';
import { runtimePaths } from '../runtime/paths.js';
import { planAdoption } from './adopt.js';
import { EventLog } from './events.js';
import { EXIT_START_FAILED } from '../protocol/exit-codes.js';
import { Watchdog } from './watchdog.js';

const raw = process.env.OSPS_CONFIG;
if (!raw) {
  process.stderr.write('osps watchdog: started without OSPS_CONFIG; use `osps start`\n');
  process.exit(2);
}
const cfg = resolveConfig(JSON.parse(raw) as Partial<Config>) as Config & { dataDir: string };
const paths = runtimePaths(cfg.name, cfg.runtimeRoot);
const launcherPid = process.env.OSPS_LAUNCHER_PID ? Number(process.env.OSPS_LAUNCHER_PID) : null;
const watchdog = new Watchdog(cfg, paths, new EventLog(paths.eventsFile, process.stdout, cfg.eventFormat), launcherPid);

// Whoever reads our event lines may go away (a closed pipe): keep supervising regardless.
process.stdout.on('error', () => {});

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void watchdog.stop(0));

let plan = null;
try {
  plan = planAdoption(paths);
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
