import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { fileInstance, givenBy, resolveStart } from './start-config.js';
import { configOptions, instanceOptions, pathsFrom, type ConfigOpts } from './options.js';
import { fail, say, sayJson } from './output.js';
import { preflightStart } from './preflight.js';
import { openNoFollow } from '../runtime/safe-open.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { example } from './help.js';

interface StartOpts extends ConfigOpts {
  detach?: boolean;
  config?: string;
}

export function registerStart(program: Command): void {
  const cmd = program
    .command('start', { isDefault: true })
    .description('start the launcher, watchdog, primary and secondary (foreground unless --detach)')
    .option('-d, --detach', 'run in the background; print the launcher pid and return once serving')
    .option('-c, --config <file>', 'read the instance (or instances) from this JSON file; flags override it');
  instanceOptions(cmd);
  configOptions(cmd);
  example(cmd, 'osps start --name web --endpoint tcp://127.0.0.1:7401 --detach', 'osps start --name web --alarm 3000 --events json', 'osps start --name web --metrics 127.0.0.1:9464', 'osps start --config examples/osps.json --detach');
  cmd.action(async (raw: StartOpts, command: Command) => {
    const given = givenBy(command);
    const file = raw.config ? await fileInstance(raw.config, raw.name, given, raw.detach === true) : undefined;
    if (file && file.fields === null) {
      process.exitCode = await startAll(file.cf.instances.map((i) => i.name ?? 'default'));
      return;
    }
    const { opts: o, cfg } = resolveStart(raw, file ? file.fields! : {}, given, raw.config);
    const paths = pathsFrom(o);
    if (cfg.service !== undefined) {
      // Resolved from the caller's directory (or the config file's) and proved loadable
      // before anything is spawned.
      const { loadService } = await import('../host/load.js');
      await loadService(cfg.service);
    }
    await preflightStart(cfg, paths);
    if (o.detach) {
      process.exitCode = await detach(cfg.dataDir, paths, cfg.metrics);
      return;
    }
    // Loaded here, not at the top: execa costs ~100 ms that every other command would pay.
    const { runLauncher } = await import('../launcher.js');
    process.exitCode = await runLauncher(cfg, paths, cfg.eventFormat === 'json' ? sayJson : say);
  });
}

/** Several instances of a config file, each started detached by this same command with its --name. */
async function startAll(names: string[]): Promise<number> {
  let worst = 0;
  for (const name of names) {
    const child = spawn(process.execPath, [...process.argv.slice(1), '--name', name], { stdio: 'inherit' });
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    worst = Math.max(worst, code);
  }
  return worst;
}

/** Re-runs this command in the foreground in a new session, logging to the data dir. */
async function detach(dataDir: string, paths: ReturnType<typeof pathsFrom>, metrics: string | undefined): Promise<number> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dataDir, 'console.log'); // the launcher's console; the JSON log is in logs/
  const out = openNoFollow(logFile, 'append');
  const args = process.argv.slice(1).filter((a) => a !== '--detach' && a !== '-d');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  fs.closeSync(out);
  // Loaded here: zeromq is not what a foreground start needs.
  const { adminRequest } = await import('../client/admin-client.js');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const reply = await adminRequest(paths, { op: 'status' }, 300);
    if (reply?.ok && typeof reply.result === 'object' && reply.result.processes.some((p) => p.role === 'primary' && p.state === 'ready')) {
      say(`started '${paths.name}' in the background (launcher pid ${child.pid}, log ${logFile})`);
      if (metrics) say(`metrics http://${metrics}/metrics  dashboard http://${metrics}/`);
      return 0;
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  return fail(`'${paths.name}' did not come up; see ${logFile}`);
}
