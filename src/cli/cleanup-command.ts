import fs from 'node:fs';
import type { Command } from 'commander';
import { readLock } from '../runtime/lock.js';
import { stopRecordedTree } from '../watchdog/recorded-tree.js';
import { adminRequest } from '../client/admin-client.js';
import { instanceOptions, pathsFrom, type InstanceOpts } from './options.js';
import { fail, say } from './output.js';
import { example } from './help.js';

export function registerCleanup(program: Command): void {
  const cmd = program.command('cleanup').description("remove what a crashed instance left behind (refused while it runs)");
  instanceOptions(cmd);
  example(cmd, 'osps cleanup --name web');
  cmd.action(async (o: InstanceOpts) => {
    const paths = pathsFrom(o);
    const lock = readLock(paths.lockFile);
    if (lock?.live || (await adminRequest(paths, { op: 'status' }, 500))) {
      process.exitCode = fail(`'${o.name}' is running (pid ${lock?.pid ?? '?'}); use osps stop`);
      return;
    }
    await stopRecordedTree(paths, say);
    if (lock) {
      fs.rmSync(paths.lockFile, { force: true });
      say(`removed stale lock (pid ${lock.pid})`);
    }
    fs.rmSync(paths.dir, { recursive: true, force: true });
    say(`'${o.name}' is clean`);
  });
}
