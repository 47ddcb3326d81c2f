// A flapping control plane, or a flapping standby, never takes a healthy primary down;
// SIGHUP stops the tree gracefully. Each on the real tree.
import { describe, expect, it } from 'vitest';
import { Instance, isAlive, waitFor } from '../helpers/instance.js';
import { writeLoad } from '../helpers/load.js';
import { tracked } from '../helpers/tracked.js';
import { childrenOf } from './children-of.js';

const { track, client } = tracked();

describe('the control plane and a flapping standby never take a healthy primary down', () => {
  it('6 SIGKILLs of the secondary within the window: the standby is given up on for a cool-down, loudly; the primary keeps serving and acknowledging; a standby returns after', async () => {
    const i = track(new Instance('standby-flap', { maxRestarts: 5, restartWindow: 60_000 }));
    await i.start();
    const c = client(i);
    const primary = i.currentPid('primary');
    for (let k = 0; k < 6; k++) {
      const mark = i.events.length;
      process.kill(i.currentPid('secondary'), 'SIGKILL');
      if (k < 5) await i.waitEvent((e) => e.event === 'spawned' && e.role === 'secondary', 10_000, mark);
    }
    const cool = await i.waitEvent((e) => e.event === 'standby-cooldown', 10_000);
    expect(cool).toMatchObject({ role: 'secondary', restarts: '6' });
    // stderr and the event stream are separate pipes: the line may trail the event.
    const loud = /the secondary kept dying \(6 restarts within 60 s, limit 5; last: signal SIGKILL\); the primary serves without a standby/;
    await waitFor('the cool-down line on stderr', () => loud.test(i.stderr), 5000);
    // The primary is untouched and acknowledges writes (journalled, without a standby).
    expect(isAlive(primary)).toBe(true);
    expect(isAlive(i.launcherPid)).toBe(true);
    await c.set('during-cooldown', 'yes');
    expect(await c.get('during-cooldown')).toBe('yes');
    const s = JSON.parse((await i.cli(['status', '--json', ...i.instanceArgs])).stdout) as { standbyCooldown: { cooldownMs: number } | null; processes: { role: string; pid: number }[] };
    expect(s.standbyCooldown?.cooldownMs).toBe(5000);
    expect(s.processes.filter((p) => p.role === 'primary').map((p) => p.pid)).toEqual([primary]);
    expect(i.events.some((e) => ['give-up', 'detected', 'promoted'].includes(e.event))).toBe(false);
    // After the cool-down a new standby comes back and syncs.
    const mark = i.events.length;
    await i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000, mark);
    expect(await c.get('during-cooldown')).toBe('yes');
  });

  it('repeated SIGKILL of the watchdog, past the intensity: restarted with backoff, the servers untouched, the client answered throughout', async () => {
    const i = track(new Instance('watchdog-flap', { maxRestarts: 2, restartWindow: 60_000, orphanTimeout: 10_000 }));
    await i.start();
    const c = client(i);
    const l = writeLoad(c, 'w', 2);
    await waitFor('load', () => l.acked.length > 50);
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    const killed: number[] = [];
    const t0 = Date.now();
    // Each new watchdog dies as soon as it has started adopting: 7 in a row.
    while (killed.length < 7) {
      const wd = await waitFor('a new watchdog', () => childrenOf(i.launcherPid).find((p) => !killed.includes(p)), 15_000, 5);
      // Half of them at once, half once they have announced themselves (adoption under way).
      if (killed.length % 2 === 1) await waitFor('it to announce itself', () => i.watchdogPid === wd, 5000, 5).catch(() => {});
      process.kill(wd, 'SIGKILL');
      killed.push(wd);
    }
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(i.stdout).toMatch(/the watchdog keeps dying .*the servers \(pids .*\) keep serving; next watchdog in \d+ ms/);
    expect(i.stdout).not.toMatch(/giving up/);
    // The next one is left alone: it adopts the very same servers.
    const mark = i.events.length;
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'primary' && Number(e.pid) === servers[0], 20_000, mark);
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'secondary' && Number(e.pid) === servers[1], 20_000, mark);
    const n = l.acked.length;
    await waitFor('load after adoption', () => l.acked.length > n + 50, 10_000);
    await l.stop();
    expect(l.errors).toEqual([]);
    expect(servers.every(isAlive)).toBe(true);
    expect(i.events.filter((e) => ['detected', 'promoted', 'fenced', 'give-up', 'reclaimed'].includes(e.event))).toEqual([]);
    for (const k of l.acked.slice(-20)) expect(await c.get(k)).toBe(k);
  });

  it('SIGHUP to the launcher (its terminal closed): a graceful stop, exit 0, nothing left', async () => {
    const i = track(new Instance('sighup'));
    await i.start();
    const c = client(i);
    await c.set('k', 'v');
    const pids = [i.launcherPid, i.watchdogPid, i.currentPid('primary'), i.currentPid('secondary')];
    process.kill(i.launcherPid, 'SIGHUP');
    const r = await i.proc!;
    expect(r.exitCode).toBe(0);
    expect(i.events.filter((e) => e.event === 'stopped').map((e) => e.graceful)).toEqual(['true', 'true']);
    expect(i.events.some((e) => e.event === 'cleaned')).toBe(true);
    await waitFor('every process to exit', () => pids.every((p) => !isAlive(p)), 5000);
    expect(await i.leftovers()).toEqual([]);
  });
});
