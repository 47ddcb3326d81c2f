// `osps start` options → the resolved config, with `--config FILE` under the flags.
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { ConfigFile } from './config-file.js';
import { applyDirect, mergeOptions } from './config-merge.js';
import type { InstanceFields } from './config-schema.js';
import { checkConfig, configFrom, type ConfigOpts } from './options.js';

export interface Resolved<O> {
  opts: O;
  cfg: Config & { dataDir: string };
}

/** Whether an option was given on the command line or by its environment variable. */
export function givenBy(cmd: Command): (k: string) => boolean {
  return (k) => ['cli', 'env'].includes(cmd.getOptionValueSource(k) ?? '');
}

/** The config of one instance: defaults, then the file's instance (if any), then the flags. */
export function resolveStart<O extends ConfigOpts>(o: O, fields: InstanceFields, given: (k: string) => boolean, file?: string): Resolved<O> {
  const opts = mergeOptions(o, fields, given);
  try {
    const cfg = applyDirect(configFrom(opts), fields, given);
    checkConfig(cfg);
    return { opts, cfg };
  } catch (err) {
    if (file && err instanceof Error) err.message = `${file}: instance '${opts.name}': ${err.message}`;
    throw err;
  }
}

/** The file's instances, or the one `--name` picks (null when several are to be started). */
export async function fileInstance(file: string, name: string, given: (k: string) => boolean, all: boolean): Promise<{ cf: ConfigFile; fields: InstanceFields | null }> {
  // Loaded only with --config: the schema library is not what a start from flags needs.
  const { loadConfigFile, pickInstance } = await import('./config-file.js');
  const cf = loadConfigFile(file);
  if (cf.instances.length > 1 && !given('name') && all) return { cf, fields: null };
  return { cf, fields: pickInstance(cf, given('name') ? name : undefined) };
}
