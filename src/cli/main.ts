import type { Command } from 'commander';
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
import { exitsAsUsage, newProgram, runProgram } from './run-program.js';

export function buildProgram(): Command {
  const program = newProgram();
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
  return exitsAsUsage(program);
}

export function main(argv: string[]): Promise<void> {
  return runProgram(buildProgram(), argv);
}
