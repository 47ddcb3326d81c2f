import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_WATCHDOG_SEC, LAUNCHER_JS, renderUnit, unitDirs, unitFileName, type UnitOptions } from '../systemd/unit.js';
import { example } from './help.js';

interface UnitCommandOpts {
  name: string;
  scope: 'system' | 'user';
  user?: string;
  watchdogSec: number;
}

/** The three commands that install the unit, and how an operator's CLI reaches the instance. */
export function installInstructions(o: Pick<UnitOptions, 'name' | 'scope' | 'user' | 'args'>, launcher = LAUNCHER_JS): string {
  const file = unitFileName(o.name);
  const osps = `${process.execPath} ${path.resolve(launcher)}`;
  const startFlags = o.args?.length ? ` -- ${o.args.join(' ')}` : '';
  const flags = `${o.scope === 'user' ? ' --scope user' : o.user ? ` --user ${o.user}` : ''}${startFlags}`;
  if (o.scope === 'user') {
    const runtimeDir = `"$XDG_RUNTIME_DIR/osps/${o.name}"`;
    return [
      `mkdir -p ~/.config/systemd/user && ${osps} systemd-unit --name ${o.name}${flags} > ~/.config/systemd/user/${file}`,
      'systemctl --user daemon-reload',
      `systemctl --user enable --now ${file}`,
      `# status: ${osps} status --name ${o.name} --runtime-dir ${runtimeDir}   logs: journalctl --user -u ${file} -f`,
      '# to keep it running while you are logged out: loginctl enable-linger',
    ].join('\n');
  }
  const { runtimeDir } = unitDirs(o);
  const as = o.user ? `sudo -u ${o.user} ` : 'sudo ';
  return [
    `${osps} systemd-unit --name ${o.name}${flags} | sudo tee /etc/systemd/system/${file}`,
    'sudo systemctl daemon-reload',
    `sudo systemctl enable --now ${file}`,
    // PrivateTmp hides the default /tmp runtime root: the CLI must be pointed at /run.
    `# status: ${as}${osps} status --name ${o.name} --runtime-dir ${runtimeDir}   logs: journalctl -u ${file} -f`,
  ].join('\n');
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 2 || n > 3600) throw new InvalidArgumentError('expected whole seconds from 2 to 3600');
  return n;
}

/** `osps systemd-unit`: the unit file on stdout (pipe it to tee), the install steps on stderr. */
export function registerSystemdUnit(program: Command): Command {
  const cmd = program
    .command('systemd-unit')
    .description('print a systemd unit file that runs this instance (install steps go to stderr)')
    .argument('[start-flags...]', 'further `start` flags, after --')
    .option('-n, --name <name>', 'instance name', 'default')
    .addOption(new Option('--scope <scope>', 'system unit or a user unit (systemctl --user)').choices(['system', 'user']).default('system'))
    .option('--user <user>', 'User= of a system unit (default: root)')
    .option('--watchdog-sec <s>', 'WatchdogSec: systemd restarts a launcher silent this long', seconds, DEFAULT_WATCHDOG_SEC)
  example(
    cmd,
    'osps systemd-unit --name web --user osps -- --endpoint tcp://127.0.0.1:7000 | sudo tee /etc/systemd/system/osps-web.service',
    'osps systemd-unit --name web --scope user > ~/.config/systemd/user/osps-web.service',
  );
  return cmd.action((args: string[], o: UnitCommandOpts) => {
      const opts: UnitOptions = { name: o.name, scope: o.scope, args, watchdogSec: o.watchdogSec, ...(o.user ? { user: o.user } : {}) };
      process.stdout.write(renderUnit(opts));
      process.stderr.write(`\n# install:\n${installInstructions(opts)}\n`);
    });
}
