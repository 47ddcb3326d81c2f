// `osps start`, the first step of every instance's start: a program with the start command
// only, so starting loads none of the other commands' modules (the client and zeromq, the
// chaos table and the shm addon, the config schema) before the watchdog is even spawned.
import { exitsAsUsage, newProgram, runProgram } from './run-program.js';
import { registerStart } from './start-command.js';

export function main(argv: string[]): Promise<void> {
  const program = newProgram();
  registerStart(program);
  return runProgram(exitsAsUsage(program), argv);
}
