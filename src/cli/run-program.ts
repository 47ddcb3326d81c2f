// What every osps program shares, the full CLI (main.ts) and the start-only one
// (start-main.ts): name, version, and how errors become exit codes.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { OspsError } from '../errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// Errors that mean "you asked for something invalid" rather than "it failed".
const USAGE_CODES = new Set(['USAGE', 'BAD_NAME', 'BAD_ENDPOINT', 'PATH_TOO_LONG', 'ENDPOINT_IN_USE', 'RUNTIME_DIR_UNSAFE', 'DATA_DIR_UNSAFE', 'DATA_FILE_UNSAFE', 'SHM_FOREIGN', 'METRICS_IN_USE', 'SERVICE_INVALID', 'ENDPOINT_EXPOSED', 'CURVE_KEY_UNSAFE']);
// Everything else (NOT_RUNNING, NO_TARGET, ALREADY_RUNNING…) is "the operation failed": exit 1.

export function newProgram(): Command {
  return new Command('osps')
    .description('a watchdog supervisor: primary + hot standby, synchronous replication, 3 s alarm, fenced failover')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)');
}

/** Every level, so a usage error anywhere becomes exit 2 rather than commander's exit 1. */
export function exitsAsUsage(c: Command): Command {
  c.exitOverride();
  c.commands.forEach(exitsAsUsage);
  return c;
}

export async function runProgram(program: Command, argv: string[]): Promise<void> {
  // A closed stdout (the reader went away) must not kill a launcher that is cleaning up.
  process.stdout.on('error', () => {});
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
