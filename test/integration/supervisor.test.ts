// Supervising the supervisor: adoption, orphan timeout, the instance lock, stale reclaim,
// and restart intensity — each on the real tree.
import fs from 'node:fs';
import net from 'node:net';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { Instance, freePort, isAlive, waitFor } from '../helpers/instance.js';
import { writeLoad } from '../helpers/load.js';
import { tracked } from '../helpers/tracked.js';

const { track, client } = tracked();


describe('supervising the supervisor', () => {
  it('SIGKILL of the watchdog under load: a new one adopts the servers; no client error, no failover; it still sees crashes at once and hangs by the alarm', async () => {
    const i = track(new Instance('adopt', { pingInterval: 100, alarm: 800 }));
    await i.start();
    const c = client(i);
    const l = writeLoad(c, 'w', 4);
    await waitFor('load', () => l.acked.length > 100);
    const oldWatchdog = i.watchdogPid;
    const primary = i.currentPid('primary');
    const secondary = i.currentPid('secondary');
    const mark = i.events.length;
    process.kill(oldWatchdog, 'SIGKILL');
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'primary' && Number(e.pid) === primary, 10_000, mark);
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'secondary' && Number(e.pid) === secondary, 10_000, mark);
    const n = l.acked.length;
    await waitFor('load after adoption', () => l.acked.length > n + 200, 10_000);
    await l.stop();
    expect(l.errors).toEqual([]);
    expect(i.events.slice(mark).some((e) => ['promoted', 'fenced', 'ping-missed'].includes(e.event))).toBe(false);
    expect(isAlive(oldWatchdog)).toBe(false);
    expect(i.watchdogPid).not.toBe(oldWatchdog);
    // The adopted servers are no longer its children: a crash is still seen at once…
    const m2 = i.events.length;
    process.kill(primary, 'SIGKILL');
    const detected = await i.waitEvent((e) => e.event === 'detected', 10_000, m2);
    expect(detected.cause).toBe('crash');
    await i.waitEvent((e) => e.event === 'promoted' && Number(e.pid) === secondary, 10_000, m2);
    // …and a hang by the alarm.
    const m3 = i.events.length;
    await i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 10_000, m2);
    process.kill(secondary, 'SIGSTOP');
    await i.waitEvent((e) => e.event === 'ping-missed' && Number(e.pid) === secondary, 10_000, m3);
    await i.waitEvent((e) => e.event === 'promoted', 10_000, m3);
    await expect(c.get(l.acked[l.acked.length - 1] as string)).resolves.not.toBeNull();
  });

  for (const step of ['fenced', 'epoch-bumped', 'promoting'] as const) {
    it(`SIGKILL of the watchdog half-way through a failover (after '${step}'): the successor finishes it, one primary serves`, async () => {
      const i = track(new Instance(`half-${step}`, { pingInterval: 100, alarm: 800, extraArgs: ['--fault-injection'], env: { OSPS_CHAOS_WATCHDOG_DIE_AT: step } }));
      await i.start();
      const c = client(i);
      for (let k = 0; k < 50; k++) await c.set(`k${k}`, `v${k}`);
      const oldPrimary = i.currentPid('primary');
      const firstWatchdog = i.watchdogPid;
      const mark = i.events.length;
      process.kill(oldPrimary, 'SIGKILL');
      await waitFor('first watchdog to die mid-failover', () => !isAlive(firstWatchdog), 10_000);
      await i.waitEvent((e) => e.event === 'starting' && e.adopting === 'true', 10_000, mark);
      await i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000, mark);
      for (let k = 0; k < 50; k++) expect(await c.get(`k${k}`)).toBe(`v${k}`);
      await c.set('after', 'x');
      const s = JSON.parse((await i.cli(['status', '--json', ...i.instanceArgs])).stdout) as { processes: { role: string; pid: number }[] };
      const primaries = s.processes.filter((p) => p.role === 'primary');
      expect(primaries).toHaveLength(1);
      expect(primaries[0]?.pid).not.toBe(oldPrimary);
      expect(s.processes.filter((p) => p.role === 'secondary')).toHaveLength(1);
      const info = (await c.info()) as { epoch: number; role: string };
      expect(info.role).toBe('primary');
      expect(info.epoch).toBeGreaterThanOrEqual(2);
    });
  }

  it('SIGKILL of launcher and watchdog together: the servers exit after the orphan timeout; the next start reclaims and says what', async () => {
    const i = track(new Instance('orphan', { orphanTimeout: 1500 }));
    await i.start();
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    const t0 = Date.now();
    process.kill(i.launcherPid, 'SIGKILL');
    process.kill(i.watchdogPid, 'SIGKILL');
    await waitFor('servers to exit on their own', () => servers.every((p) => !isAlive(p)), 10_000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(1500 + 3000);
    await i.proc;
    // Left behind: lock, FIFOs, shm object, socket files. The next start reclaims each, one line each.
    expect(fs.existsSync(i.paths.lockFile)).toBe(true);
    expect(fs.existsSync(`/dev/shm${i.paths.shmName}`)).toBe(true);
    await i.start();
    expect(i.stdout).toMatch(/reclaimed stale lock .*launcher\.lock \(pid \d+ is gone\)/);
    const reclaimed = i.events.filter((e) => e.event === 'reclaimed').map((e) => e.kind);
    expect(reclaimed).toEqual(expect.arrayContaining(['fifo', 'shm', 'socket']));
    const c = client(i);
    await c.set('k', 'v');
  });

  it('a second start of a running name is refused and touches nothing', async () => {
    const i = track(new Instance('twice'));
    await i.start();
    const before = fs.readdirSync(i.paths.dir).sort();
    const r = await i.cli(['start', ...i.instanceArgs, '--endpoint', 'tcp://127.0.0.1:1', '--data-dir', i.dataDir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe(`osps: already running (pid ${i.launcherPid})`);
    expect(fs.readdirSync(i.paths.dir).sort()).toEqual(before);
    const c = client(i);
    expect(await c.ping()).toBe('pong');
  });

  it('a lock held by a dead pid, or by a live process that is not a launcher (pid reuse), is reclaimed', async () => {
    for (const kind of ['dead', 'reused'] as const) {
      const i = track(new Instance(`lock-${kind}`));
      fs.mkdirSync(i.paths.dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(i.paths.root, 0o700);
      let pid: number;
      let sleeper: ReturnType<typeof execa> | null = null;
      if (kind === 'dead') {
        const p = execa('true');
        await p;
        pid = p.pid as number;
      } else {
        sleeper = execa('sleep', ['30']);
        pid = sleeper.pid as number;
      }
      fs.writeFileSync(i.paths.lockFile, JSON.stringify({ pid, startTime: null, program: 'osps-launcher' }));
      await i.start();
      expect(i.stdout).toContain(`reclaimed stale lock ${i.paths.lockFile} (pid ${pid} is gone)`);
      sleeper?.kill('SIGKILL');
      await sleeper?.catch(() => {});
    }
  });

  it('stop finds the watchdog through the runtime dir when the launcher is gone', async () => {
    const i = track(new Instance('nolauncher'));
    await i.start();
    const launcher = i.launcherPid;
    process.kill(launcher, 'SIGKILL');
    // Not `await i.proc`: the watchdog still holds the launcher's stdout open.
    await waitFor('launcher to die', () => !isAlive(launcher));
    const c = client(i);
    await c.set('still', 'serving');
    const r = await i.cli(['stop', ...i.instanceArgs]);
    expect(r.exitCode).toBe(0);
    expect(await i.leftovers()).toEqual([`runtime dir ${i.paths.dir}: launcher.lock`]);
    // The dead launcher's lock is stale: cleanup reclaims it.
    const cl = await i.cli(['cleanup', ...i.instanceArgs]);
    expect(cl.exitCode).toBe(0);
    expect(cl.stdout).toMatch(/removed stale lock/);
  });

  it('stop finds the servers through the recorded state when launcher and watchdog are gone', async () => {
    const i = track(new Instance('nowatchdog', { orphanTimeout: 20_000 }));
    await i.start();
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    const pids = [i.launcherPid, i.watchdogPid];
    for (const p of pids) process.kill(p, 'SIGKILL');
    // Not `await i.proc`: the servers still hold the launcher's stdout open.
    await waitFor('launcher and watchdog to die', () => pids.every((p) => !isAlive(p)));
    const r = await i.cli(['stop', ...i.instanceArgs]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/without its watchdog/);
    expect(servers.every((p) => !isAlive(p))).toBe(true);
    await i.cli(['cleanup', ...i.instanceArgs]);
  });

  it('a primary that dies more often than the intensity allows: the watchdog gives up, cleans up, and the launcher exits 3 naming the role', async () => {
    const i = track(new Instance('intensity', { maxRestarts: 2, restartWindow: 60_000 }));
    await i.start();
    for (let k = 0; k < 3; k++) {
      const mark = i.events.length;
      const pid = i.currentPid('primary');
      process.kill(pid, 'SIGKILL');
      if (k < 2) await i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 10_000, mark);
    }
    const r = await i.proc!;
    expect(r.exitCode).toBe(3);
    expect(i.stderr).toMatch(/giving up: the primary kept dying .*last: signal SIGKILL/);
    expect(i.events.some((e) => e.event === 'give-up')).toBe(true);
    expect(i.events.some((e) => e.event === 'cleaned')).toBe(true);
  });

  it('a primary that cannot bind its endpoint: the same give-up path, with EADDRINUSE and the endpoint in the message', async () => {
    const port = await freePort();
    const i = track(new Instance('eaddrinuse', { maxRestarts: 3, port }));
    await i.start({ waitReady: false });
    // Taken after `start` has checked the endpoint (a port taken before is refused at once), before the first primary binds.
    await i.waitEvent((e) => e.event === 'starting');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const r = await i.proc!;
    blocker.close();
    expect(r.exitCode).toBe(3);
    expect(i.stderr).toMatch(new RegExp(`giving up: the primary kept dying .*EADDRINUSE.*tcp://127\\.0\\.0\\.1:${port}`));
    expect(i.events.filter((e) => e.event === 'spawned' && e.role === 'primary').length).toBe(4);
  });
});
