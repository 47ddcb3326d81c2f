import type { Command } from 'commander';
import { readLock } from '../runtime/lock.js';
import { isAlive } from '../runtime/proc.js';
import { stopRecordedTree } from '../watchdog/recorded-tree.js';
import { readState } from '../watchdog/state-file.js';
import { adminRequest } from '../client/admin-client.js';
import { instanceOptions, pathsFrom, type InstanceOpts } from './options.js';
import { fail, say } from './output.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { example } from './help.js';

const STOP_WAIT_MS = 8000;

export function registerStop(program: Command): void {
  const cmd = program.command('stop').description('stop a running instance gracefully and remove its IPC objects');
  instanceOptions(cmd);
  example(cmd, 'osps stop --name web', 'osps stop --name web --runtime-dir /run/user/1000/osps');
  cmd.action(async (o: InstanceOpts) => {
    const paths = pathsFrom(o);
    const reply = await adminRequest(paths, { op: 'stop' });
    if (reply?.ok) {
      const state = readState(paths.stateFile);
      const launcher = readLock(paths.lockFile);
      const pids = [state?.watchdogPid, launcher?.live ? launcher.pid : undefined].filter((p): p is number => !!p);
      const deadline = Date.now() + STOP_WAIT_MS;
      while (pids.some(isAlive) && Date.now() < deadline) await sleep(25);
      if (pids.some(isAlive)) {
        process.exitCode = fail(`'${o.name}' did not stop within ${STOP_WAIT_MS} ms`);
        return;
      }
      say(`stopped '${o.name}'`);
      return;
    }
    // No watchdog answers: stop whatever the runtime dir recorded, then clean up.
    if (readState(paths.stateFile)) {
      const killed = await stopRecordedTree(paths, say);
      say(`stopped '${o.name}' without its watchdog (${killed} process${killed === 1 ? '' : 'es'})`);
      return;
    }
    process.exitCode = fail(`instance '${o.name}' is not running`);
  });
}
