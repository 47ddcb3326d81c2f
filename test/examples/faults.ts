// The faults every example is run through: kill and hang of the primary, loss of the
// standby, and a SIGKILL of the whole tree followed by `osps start`.
import { Instance, isAlive, waitFor } from '../helpers/instance.js';

export const FAULTS = ['kill-primary', 'hang-primary', 'lose-standby', 'kill-tree'] as const;
export type Fault = (typeof FAULTS)[number];

/** Injects `fault` and returns once a primary serves again with a standby in sync. */
export async function inject(i: Instance, fault: Fault): Promise<void> {
  const mark = i.events.length;
  const inSync = () => i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000, mark);
  switch (fault) {
    case 'kill-primary':
      process.kill(i.currentPid('primary'), 'SIGKILL');
      await i.waitEvent((e) => e.event === 'promoted', 15_000, mark);
      return void (await inSync());
    case 'hang-primary':
      // The alarm catches it; the watchdog fences it with SIGKILL, which a stopped process obeys.
      process.kill(i.currentPid('primary'), 'SIGSTOP');
      await i.waitEvent((e) => e.event === 'promoted', 15_000, mark);
      return void (await inSync());
    case 'lose-standby':
      process.kill(i.currentPid('secondary'), 'SIGKILL');
      return void (await inSync());
    case 'kill-tree': {
      const pids = [i.launcherPid, i.watchdogPid, i.currentPid('primary'), i.currentPid('secondary')];
      for (const p of pids) process.kill(p, 'SIGKILL');
      await waitFor('the tree to die', () => pids.every((p) => !isAlive(p)), 10_000);
      await i.proc;
      await i.start();
      return;
    }
  }
}
