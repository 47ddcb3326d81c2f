import type { Command } from 'commander';
import { loadConfigFile } from './config-file.js';
import { example } from './help.js';
import { configOptions, instanceOptions, type ConfigOpts } from './options.js';
import { say } from './output.js';
import { resolveStart } from './start-config.js';

/** `osps config check FILE`: everything `start --config FILE` would refuse, without starting. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('config files (osps start --config FILE)');
  example(config, 'osps config check examples/osps.json');
  const check = config.command('check <file>').description('validate a config file without starting anything (exit 2 when invalid)');
  example(check, 'osps config check osps.json');
  check.action((file: string) => {
    const cf = loadConfigFile(file);
    // The start command's own defaults, so the cross-field checks see what a start would.
    const defaults = configOptions(instanceOptions(program.createCommand('start'))).opts<ConfigOpts>();
    const names: string[] = [];
    for (const fields of cf.instances) {
      const { cfg } = resolveStart({ ...defaults }, fields, () => false, file);
      names.push(cfg.metrics ? `${cfg.name} (${cfg.endpoint}, metrics ${cfg.metrics})` : `${cfg.name} (${cfg.endpoint})`);
    }
    say(`${file}: valid, ${names.length} instance${names.length === 1 ? '' : 's'}: ${names.join(', ')}`);
  });
}
