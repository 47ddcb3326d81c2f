// Supervising the supervisor: what clients see while the watchdog is SIGKILLed and replaced
// under load, and how long orphaned servers outlive a SIGKILL of launcher + watchdog.
import { summarize } from '../dist/client/percentiles.js';
import { closedLoopLoad } from './closed-loop.mjs';
import { isAlive as alive } from '../dist/runtime/proc.js';
import { Tree, sleep, waitFor } from './tree.mjs';

export async function benchSupervisor() {
  const out = {};
  {
    const tree = new Tree('wdkill');
    await tree.start();
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
    const l = closedLoopLoad(tree.endpoint, { prefix: 'sv' });
    await sleep(2000);
    const t = performance.now();
    const before = summarize(l.samples.filter(([t0]) => t0 < t).map(([, d]) => d));
    const mark = tree.events.length;
    process.kill(tree.watchdogPid, 'SIGKILL');
    await tree.waitEvent((e) => e.event === 'adopted' && e.role === 'primary', 15_000, mark);
    const adoptedAt = performance.now();
    await sleep(2000);
    await l.stop();
    const during = summarize(l.samples.filter(([t0]) => t0 >= t - 50 && t0 < adoptedAt + 500).map(([, d]) => d));
    out.watchdogKill = {
      clientErrors: l.errors,
      failovers: tree.events.slice(mark).filter((e) => e.event === 'promoted').length,
      adoptMs: adoptedAt - t,
      steadyP99Ms: before.p99,
      steadyMaxMs: before.max,
      duringP99Ms: during.p99,
      duringMaxMs: during.max,
    };
    await tree.stop();
  }
  {
    const tree = new Tree('orphans', ['--orphan-timeout', '10000']);
    await tree.start();
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
    const servers = [tree.pid('primary'), tree.pid('secondary')];
    const t = performance.now();
    process.kill(tree.proc.pid, 'SIGKILL');
    process.kill(tree.watchdogPid, 'SIGKILL');
    await waitFor('orphans to exit', () => servers.every((p) => !alive(p)), 30_000);
    out.orphanExitMs = performance.now() - t;
    // The orphans left their IPC objects; `osps cleanup` is what an operator would run.
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, ['launcher.js', 'cleanup', '--name', tree.name, '--runtime-dir', `${tree.tmp}/run`], { stdio: 'ignore' });
    await tree.stop();
  }
  return out;
}
