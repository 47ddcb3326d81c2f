import { Option, type Command } from 'commander';
import { CUT_HOWS, FAULTS, FAULT_HELP, injectFault, type CutHow, type FaultName, type FaultOptions } from '../chaos/faults.js';
import { intArg, instanceOptions, pathsFrom, type InstanceOpts } from './options.js';
import { say } from './output.js';

interface FaultCliOpts extends InstanceOpts {
  for?: number;
  role?: 'primary' | 'secondary';
  pipe?: 'p2s' | 's2p';
  how?: CutHow;
  where?: 'entry' | 'header';
  json?: boolean;
}

/** `osps chaos <fault>`: failure injection on a running instance, one subcommand per fault. */
export function registerChaos(program: Command): void {
  const chaos = program
    .command('chaos')
    .description('inject a fault into a running instance, or run a seeded chaos test (chaos run)');
  for (const fault of FAULTS) {
    const cmd = chaos.command(fault).description(FAULT_HELP[fault]);
    instanceOptions(cmd);
    if (fault.startsWith('hang-') || fault === 'pause' || fault === 'fill-ring') {
      cmd.option('--for <ms>', 'SIGCONT after this long', intArg(1, 3_600_000));
    }
    if (fault === 'pause' || fault === 'memory-hog') {
      cmd.addOption(new Option('--role <role>', 'which server').choices(['primary', 'secondary']).default('primary'));
    }
    if (fault === 'cut-pipe') {
      cmd.addOption(new Option('--pipe <fifo>', 'which FIFO to break').choices(['s2p', 'p2s']).default('s2p'));
      cmd.addOption(new Option('--how <how>', 'corrupt frame, unlink the FIFO, or replace it').choices([...CUT_HOWS]).default('frame'));
    }
    if (fault === 'corrupt-shm') {
      cmd.addOption(new Option('--where <part>', 'an unread ring entry, or the header').choices(['entry', 'header']).default('entry'));
    }
    cmd.option('--json', 'print what was done as JSON');
    cmd.action(async (o: FaultCliOpts) => {
      const opts: FaultOptions = {};
      if (o.for !== undefined) opts.forMs = o.for;
      if (o.role) opts.role = o.role;
      if (o.pipe) opts.pipe = o.pipe;
      if (o.how) opts.how = o.how;
      if (o.where) opts.where = o.where;
      const rec = await injectFault(pathsFrom(o), fault as FaultName, opts);
      if (o.json) process.stdout.write(`${JSON.stringify(rec)}\n`);
      else say(`${fault}: ${rec.role} pid ${rec.pid}: ${rec.detail}`);
    });
  }
  registerChaosRun(chaos);
}

function registerChaosRun(chaos: Command): void {
  chaos
    .command('run')
    .description('start a private instance under client load, inject N seeded random faults, check the invariants')
    .option('--faults <n>', 'how many faults', intArg(1, 100_000), 20)
    .option('--seed <s>', 'PRNG seed (replay a failure with the seed it printed)', intArg(0, 2 ** 31 - 1))
    .option('--clients <n>', 'client worker processes', intArg(1, 64), 4)
    .option('--alarm <ms>', 'alarm of the instance under test', intArg(100, 60_000), 700)
    .option('--ping-interval <ms>', 'ping period of the instance under test', intArg(10, 10_000), 100)
    .option('--json', 'print the report as JSON')
    .action(async (o: { faults: number; seed?: number; clients: number; alarm: number; pingInterval: number; json?: boolean }) => {
      const { runChaos, printReport } = await import('../chaos/run.js');
      const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
      const report = await runChaos({
        faults: o.faults,
        seed,
        clients: o.clients,
        json: !!o.json,
        alarmMs: o.alarm,
        pingIntervalMs: o.pingInterval,
        handleSignals: true,
      });
      printReport(report, !!o.json);
      if (!report.ok) process.exitCode = 1;
    });
}
