import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { OspsError } from '../errors.js';
import { loadConfigFile, pickInstance } from './config-file.js';
import { example } from './help.js';
import { formatRecord, LogTail, matches, parseDuration, type LogFilter, type LogRecord } from './log-reader.js';
import { defaultDataDir, instanceOptions, type InstanceOpts } from './options.js';
import { givenBy } from './start-config.js';

interface LogsOpts extends InstanceOpts {
  dataDir?: string;
  config?: string;
  follow?: boolean;
  json?: boolean;
  since?: string;
  role?: string;
}

/** The data dir of the instance: --data-dir, else the config file's, else the default. */
function dataDirOf(o: LogsOpts, given: (k: string) => boolean): string {
  if (o.dataDir) return path.resolve(o.dataDir);
  if (o.config) {
    const fields = pickInstance(loadConfigFile(o.config), given('name') ? o.name : undefined);
    if (fields.dataDir) return fields.dataDir;
    return defaultDataDir(given('name') ? o.name : (fields.name ?? o.name));
  }
  return defaultDataDir(o.name);
}

export function registerLogs(program: Command): void {
  const cmd = program
    .command('logs')
    .description("an instance's events and server log lines, across restarts of the tree (from <data-dir>/logs)")
    .option('--data-dir <dir>', 'the data dir the instance was started with (default $XDG_DATA_HOME/osps/<name>)')
    .option('-c, --config <file>', 'take the data dir from this config file')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--json', 'print the JSON records as written')
    .option('--since <duration>', 'only lines of the last 10m, 30s, 2h, 1d …')
    .option('--role <role>', 'only lines of this role or component (primary, secondary, watchdog)');
  instanceOptions(cmd);
  example(cmd, 'osps logs --name web --since 10m', 'osps logs --name web --follow --role primary', 'osps logs --config examples/osps.json --json');
  cmd.action(async (o: LogsOpts, command: Command) => {
    const filter: LogFilter = { role: o.role };
    if (o.since !== undefined) {
      const ms = parseDuration(o.since);
      if (ms === null) throw new OspsError('USAGE', `--since ${o.since}: expected a duration such as 30s, 10m, 2h, 1d`);
      filter.sinceMs = ms;
    }
    const tail = new LogTail(path.join(dataDirOf(o, givenBy(command)), 'logs'));
    const print = (records: LogRecord[]): void => {
      for (const r of records) if (matches(r, filter)) process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : formatRecord(r));
    };
    print(tail.read());
    if (!o.follow) return;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    while (!stopped) {
      await sleep(200);
      print(tail.read());
    }
  });
}
