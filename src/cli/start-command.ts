import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { adminRequest } from '../client/admin-client.js';
import { configFrom, configOptions, instanceOptions, pathsFrom, type ConfigOpts } from './options.js';
import { fail, say, sayJson } from './output.js';
import { preflightStart } from './preflight.js';
import { openNoFollow } from '../runtime/safe-open.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { example } from './help.js';

interface StartOpts extends ConfigOpts {
  detach?: boolean;
  service?: string;
}

export function registerStart(program: Command): void {
  const cmd = program
    .command('start', { isDefault: true })
    .description('start the launcher, watchdog, primary and secondary (foreground unless --detach)')
    .option('-d, --detach', 'run in the background; print the launcher pid and return once serving')
    .option('--service <path>', 'the service module to run (ESM or CommonJS, SERVICE.md); default: the built-in key-value store');
  instanceOptions(cmd);
  configOptions(cmd);
  example(cmd, 'osps start --name web --endpoint tcp://127.0.0.1:7401 --detach', 'osps start --name web --alarm 3000 --events json');
  cmd.action(async (o: StartOpts) => {
    const cfg = configFrom(o);
    const paths = pathsFrom(o);
    if (o.service !== undefined) {
      // Resolved from the caller's directory and proved loadable before anything is spawned.
      cfg.service = path.resolve(o.service);
      const { loadService } = await import('../host/load.js');
      await loadService(cfg.service);
    }
    await preflightStart(cfg, paths);
    if (o.detach) {
      process.exitCode = await detach(cfg.dataDir, paths);
      return;
    }
    // Loaded here, not at the top: execa costs ~100 ms that every other command would pay.
    const { runLauncher } = await import('../launcher.js');
    process.exitCode = await runLauncher(cfg, paths, cfg.eventFormat === 'json' ? sayJson : say);
  });
}

/** Re-runs this command in the foreground in a new session, logging to the data dir. */
async function detach(dataDir: string, paths: ReturnType<typeof pathsFrom>): Promise<number> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dataDir, 'osps.log');
  const out = openNoFollow(logFile, 'append');
  const args = process.argv.slice(1).filter((a) => a !== '--detach' && a !== '-d');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  fs.closeSync(out);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const reply = await adminRequest(paths, { op: 'status' }, 300);
    if (reply?.ok && typeof reply.result === 'object' && reply.result.processes.some((p) => p.role === 'primary' && p.state === 'ready')) {
      say(`started '${paths.name}' in the background (launcher pid ${child.pid}, log ${logFile})`);
      return 0;
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  return fail(`'${paths.name}' did not come up; see ${logFile}`);
}
