import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { OspsError } from '../errors.js';
import { registerClientCommands } from './client-command.js';
import { registerChaos } from './chaos-command.js';
import { registerCleanup } from './cleanup-command.js';
import { registerConfig } from './config-command.js';
import { registerCurveKeys } from './curve-keys-command.js';
import { registerLogs } from './logs-command.js';
import { registerRepair } from './repair-command.js';
import { registerStart } from './start-command.js';
import { registerStatus } from './status-command.js';
import { registerStop } from './stop-command.js';
import { registerSystemdUnit } from './systemd-unit-command.js';
import { example } from './help.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// Errors that mean "you asked for something invalid" rather than "it failed".
const USAGE_CODES = new Set(['USAGE', 'BAD_NAME', 'BAD_ENDPOINT', 'PATH_TOO_LONG', 'ENDPOINT_IN_USE', 'RUNTIME_DIR_UNSAFE', 'DATA_DIR_UNSAFE', 'DATA_FILE_UNSAFE', 'SHM_FOREIGN', 'METRICS_IN_USE', 'SERVICE_INVALID', 'ENDPOINT_EXPOSED', 'CURVE_KEY_UNSAFE']);
// Everything else (NOT_RUNNING, NO_TARGET, ALREADY_RUNNING…) is "the operation failed": exit 1.

export function buildProgram(): Command {
  const program = new Command('osps')
    .description('a watchdog supervisor: primary + hot standby, synchronous replication, 3 s alarm, fenced failover')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)');
  registerStart(program);
  registerStop(program);
  registerStatus(program);
  registerCleanup(program);
  registerRepair(program);
  registerClientCommands(program);
  registerChaos(program);
  registerConfig(program);
  registerLogs(program);
  registerSystemdUnit(program);
  registerCurveKeys(program);
  example(program, 'osps start --name web --detach', 'osps client set greeting hello --name web', 'osps status --name web', 'osps stop --name web');
  // Every level, so a usage error anywhere becomes exit 2 rather than commander's exit 1.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // A closed stdout (the reader went away) must not kill a launcher that is cleaning up.
  process.stdout.on('error', () => {});
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other commander error is a usage error.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof OspsError) {
      process.stderr.write(`osps: ${err.message}\n`);
      process.exitCode = USAGE_CODES.has(err.code) ? 2 : 1;
      return;
    }
    throw err;
  }
}
