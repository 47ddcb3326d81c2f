// `osps repair`: the one way past a journal the server refused. It cuts at the first bad
// record after a durable copy of the original, and only while nothing of the instance runs.
import path from 'node:path';
import type { Command } from 'commander';
import { adminRequest } from '../client/admin-client.js';
import { repairJournal } from '../journal/repair.js';
import { readLock } from '../runtime/lock.js';
import { journalFile } from '../runtime/paths.js';
import { isSameProcess } from '../runtime/proc.js';
import { readState } from '../watchdog/state-file.js';
import { example } from './help.js';
import { defaultDataDir, instanceOptions, pathsFrom, type InstanceOpts } from './options.js';
import { fail, say } from './output.js';

interface RepairOpts extends InstanceOpts {
  dataDir?: string;
}

export function registerRepair(program: Command): void {
  const cmd = program
    .command('repair')
    .description('cut a corrupt journal at its first bad record, keeping a copy of the original (refused while the instance runs)')
    .option('--data-dir <dir>', 'journal directory (default $XDG_DATA_HOME/osps/<name>)');
  instanceOptions(cmd);
  example(cmd, 'osps repair --name web', 'osps repair --name web --data-dir /var/lib/osps/web');
  cmd.action(async (o: RepairOpts) => {
    const paths = pathsFrom(o);
    const lock = readLock(paths.lockFile);
    const state = readState(paths.stateFile);
    const live = (state?.children ?? []).filter((c) => c.startTime !== null && isSameProcess(c.pid, c.startTime)).map((c) => c.pid);
    if (lock?.live || live.length > 0 || (await adminRequest(paths, { op: 'status' }, 500))) {
      const pid = lock?.live ? lock.pid : live[0];
      process.exitCode = fail(`'${o.name}' is running${pid ? ` (pid ${pid})` : ''}; stop it first: osps stop --name ${o.name}`);
      return;
    }
    const file = journalFile(path.resolve(o.dataDir ?? defaultDataDir(o.name)));
    let r: ReturnType<typeof repairJournal>;
    try {
      r = repairJournal(file);
    } catch (err) {
      process.exitCode = fail(`cannot repair ${file}: ${(err as Error).message}`);
      return;
    }
    if (r.clean) {
      say(`${file} is valid (${r.keptBytes} bytes); nothing to repair`);
      return;
    }
    say(`${file}: bad record at byte ${r.offset} (${r.reason})`);
    say(r.stateKept ? `kept ${r.keptBytes} bytes (every record before byte ${r.offset}), dropped ${r.droppedBytes}` : `the damage is inside the checkpoint: no state could be kept, dropped all ${r.droppedBytes} bytes`);
    say(`the original is kept at ${r.backup}`);
  });
}
