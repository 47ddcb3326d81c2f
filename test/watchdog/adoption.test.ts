// Adoption that never forgets a live server: a watchdog killed at any instant of its own
// adoption leaves a successor that still finds every live server, under load; and a start
// that is not an adoption reclaims nothing while a server of the instance lives.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readState } from '../../dist/watchdog/state-file.js';
import { Instance, ROOT, isAlive, waitFor } from '../helpers/instance.js';
import { writeLoad } from '../helpers/load.js';
import { tracked } from '../helpers/tracked.js';
import { childrenOf } from './children-of.js';

const { track, client } = tracked();

describe('adoption never forgets a live server', () => {
  it('each new watchdog SIGKILLed as soon as it appears, 12 times, under load: one primary, the same pair, nothing lost, nothing reclaimed', async () => {
    const i = track(new Instance('adopt-loop', { orphanTimeout: 20_000, maxRestarts: 50 }));
    await i.start();
    const c = client(i, 30_000);
    const l = writeLoad(c, 'w', 3);
    await waitFor('load', () => l.acked.length > 100);
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    const killed: number[] = [];
    // Kill at spread instants: while it loads (0..130 ms after it appears), and in the middle
    // of its adoption (0..60 ms after it announced itself, before or after it recorded).
    for (let k = 0; k < 12; k++) {
      const wd = await waitFor('a new watchdog', () => childrenOf(i.launcherPid).find((p) => !killed.includes(p)), 15_000, 2);
      if (k % 2 === 1) await waitFor('it to announce itself', () => i.watchdogPid === wd, 5000, 2).catch(() => {});
      const delay = k % 2 === 1 ? (k * 13) % 60 : (k * 37) % 130;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      process.kill(wd, 'SIGKILL');
      killed.push(wd);
      await waitFor('it to die', () => !isAlive(wd), 5000, 5);
      // Whatever instant it died at, the state file still names every live server.
      const recorded = readState(i.paths.stateFile)?.children.map((ch) => ch.pid) ?? [];
      expect(recorded).toEqual(expect.arrayContaining(servers));
    }
    const mark = i.events.length;
    await i.waitEvent((e) => e.event === 'adopted' && Number(e.pid) === servers[0] && e.role === 'primary', 20_000, mark);
    await i.waitEvent((e) => e.event === 'adopted' && Number(e.pid) === servers[1] && e.role === 'secondary', 20_000, mark);
    const n = l.acked.length;
    await waitFor('load after adoption', () => l.acked.length > n + 100, 15_000);
    await l.stop();
    expect(l.errors).toEqual([]);
    expect(i.events.filter((e) => ['reclaimed', 'detected', 'promoted', 'give-up'].includes(e.event))).toEqual([]);
    expect(i.events.filter((e) => e.event === 'spawned').length).toBe(2);
    expect(i.events.filter((e) => e.event === 'starting' && e.adopting === 'false').length).toBe(1);
    const s = JSON.parse((await i.cli(['status', '--json', ...i.instanceArgs])).stdout) as { epoch: number; processes: { role: string; pid: number }[] };
    expect(s.processes.filter((p) => p.role === 'primary').map((p) => p.pid)).toEqual([servers[0]]);
    expect(s.epoch).toBe(1);
    for (const k of l.acked) expect(await c.get(k)).toBe(k);
  });

  it('a start that is not an adoption finds live servers the state file forgot, and adopts them instead of reclaiming', async () => {
    const i = track(new Instance('forgotten', { orphanTimeout: 20_000 }));
    await i.start();
    const c = client(i);
    await c.set('k', 'v');
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    // Launcher and watchdog die; the state file is lost with them (the worst a dying watchdog could leave).
    const first = i.proc!;
    process.kill(i.launcherPid, 'SIGKILL');
    process.kill(i.watchdogPid, 'SIGKILL');
    await waitFor('launcher and watchdog to die', () => !isAlive(first.pid!) && !isAlive(i.watchdogPid));
    fs.rmSync(i.paths.stateFile, { force: true });
    const mark = i.events.length;
    await i.start({ waitReady: false });
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'primary', 15_000, mark);
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'secondary', 15_000, mark);
    expect(i.events.filter((e) => e.event === 'reclaimed')).toEqual([]);
    expect(i.events.filter((e) => e.event === 'adopted').map((e) => Number(e.pid)).sort()).toEqual([...servers].sort());
    expect(await c.get('k')).toBe('v');
    expect(servers.every(isAlive)).toBe(true);
  });

  it('an osps server of another tree mapping the shm object: the start refuses in one line and reclaims nothing', async () => {
    const i = track(new Instance('stranger', { orphanTimeout: 1500 }));
    await i.start();
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    process.kill(i.launcherPid, 'SIGKILL');
    process.kill(i.watchdogPid, 'SIGKILL');
    await waitFor('servers to exit on their own', () => servers.every((p) => !isAlive(p)), 10_000);
    // A server entry that is not of this tree (no environment of ours) keeps the shm object mapped.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-stranger-'));
    fs.mkdirSync(path.join(dir, 'server'));
    const entry = path.join(dir, 'server', 'main.js');
    fs.writeFileSync(entry, `import { ShmRing } from '${ROOT}/dist/ipc/shm-ring.js'; ShmRing.attach(${JSON.stringify(i.paths.shmName)}); console.log('mapped'); setInterval(() => {}, 1000);`);
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    const stranger = execa(process.execPath, [entry], { reject: false, buffer: false });
    stranger.stdout?.setEncoding('utf8');
    let out = '';
    stranger.stdout?.on('data', (d: string) => (out += d));
    try {
      await waitFor('the stranger to map the ring', () => out.includes('mapped'), 10_000);
      const mark = i.events.length;
      await i.start({ waitReady: false });
      const r = await i.proc!;
      expect(r.exitCode).toBe(1);
      expect(i.stderr).toContain(`refusing to start: a process outside this instance's tree holds its resources (pid ${stranger.pid} an osps server mapping ${i.paths.shmName})`);
      expect(i.events.slice(mark).filter((e) => e.event === 'reclaimed' || e.event === 'spawned')).toEqual([]);
      expect(fs.existsSync(`/dev/shm${i.paths.shmName}`)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
      await stranger;
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // With the stranger gone, cleanup reclaims what the dead tree left.
    await i.cli(['cleanup', ...i.instanceArgs]);
  });
});
