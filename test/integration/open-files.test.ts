// A tree started with a low soft open-file limit runs every process at the hard limit:
// a flood of clients meets the hard limit, not an inherited soft one.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { openFileLimit } from '../../dist/runtime/open-files.js';
import { Instance, teardown } from '../helpers/instance.js';

let inst: Instance | null = null;
afterEach(async () => {
  await teardown(inst, null);
  inst = null;
});

function setSoftLimit(n: number): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${n}:`]);
}

describe('open-file limit', () => {
  it('launcher, watchdog, primary and secondary all run with soft = hard when started with soft 256', async () => {
    const own = openFileLimit();
    inst = new Instance('nofile');
    // Children inherit the limit at spawn; ours is restored as soon as the launcher exists.
    setSoftLimit(256);
    let inherited: string;
    try {
      inherited = execFileSync('sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8' }).trim();
      await inst.start({ waitReady: false });
    } finally {
      setSoftLimit(own.soft);
    }
    // What a program that does not raise it runs with.
    expect(inherited).toBe('256');
    await inst.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000);
    const pids = [inst.launcherPid, inst.watchdogPid, inst.currentPid('primary'), inst.currentPid('secondary')];
    for (const pid of pids) expect(openFileLimit(pid), `pid ${pid}`).toEqual({ soft: own.hard, hard: own.hard });
  });
});
