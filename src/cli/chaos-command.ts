import { Option, type Command } from 'commander';
import { FAULTS, faultHelp, faultSpec, injectFault, type FaultOptions } from '../chaos/faults.js';
import { intArg, instanceOptions, pathsFrom, type InstanceOpts } from './options.js';
import { say } from './output.js';
import { example } from './help.js';

/** `osps chaos <fault>`: failure injection on a running instance, one subcommand per fault of the table. */
export function registerChaos(program: Command): void {
  const chaos = program
    .command('chaos')
    .description('inject a fault into a running instance, or run a seeded chaos test (chaos run)');
  example(chaos, 'osps chaos kill-primary --name web', 'osps chaos run --faults 20 --seed 12345');
  for (const fault of FAULTS) {
    const spec = faultSpec(fault);
    const cmd = chaos.command(fault).description(faultHelp(fault));
    instanceOptions(cmd);
    for (const o of spec.options) {
      const opt = new Option(`--${o.flag} <${o.arg}>`, o.help);
      if (o.choices) opt.choices([...o.choices]).default(o.choices[0]);
      if (o.range) opt.argParser(intArg(o.range[0], o.range[1]));
      cmd.addOption(opt);
    }
    cmd.option('--json', 'print what was done as JSON');
    const first = spec.options[0];
    example(cmd, `osps chaos ${fault} --name web${first ? ` --${first.flag} ${first.choices?.[1] ?? 500}` : ''}`);
    cmd.action(async (o: InstanceOpts & Record<string, unknown>) => {
      const opts: FaultOptions = {};
      for (const s of spec.options) {
        if (o[s.flag] !== undefined) (opts as Record<string, unknown>)[s.key] = o[s.flag];
      }
      const rec = await injectFault(pathsFrom(o), fault, opts);
      if (o.json) process.stdout.write(`${JSON.stringify(rec)}\n`);
      else say(`${fault}: ${rec.role} pid ${rec.pid}: ${rec.detail}`);
    });
  }
  registerChaosRun(chaos);
}

function registerChaosRun(chaos: Command): void {
  const cmd = chaos
    .command('run')
    .description('start a private instance under client load, inject N seeded random faults, check the invariants')
    .option('--faults <n>', 'how many faults', intArg(1, 100_000), 20)
    .option('--seed <s>', 'PRNG seed (replay a failure with the seed it printed)', intArg(0, 2 ** 31 - 1))
    .option('--clients <n>', 'client worker processes', intArg(1, 64), 4)
    .option('--alarm <ms>', 'alarm of the instance under test', intArg(100, 60_000), 700)
    .option('--ping-interval <ms>', 'ping period of the instance under test', intArg(10, 10_000), 100)
    .option('--json', 'print the report as JSON');
  example(cmd, 'osps chaos run --faults 20 --seed 12345 --clients 3');
  cmd.action(async (o: { faults: number; seed?: number; clients: number; alarm: number; pingInterval: number; json?: boolean }) => {
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
      progress: process.stderr.isTTY === true,
    });
    printReport(report, !!o.json);
    if (!report.ok) process.exitCode = 1;
  });
}
