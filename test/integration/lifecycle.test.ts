// Start, status and the three ways to stop; the real 3 s default alarm.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, isAlive, waitFor, teardown } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;

afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

describe('lifecycle', () => {
  it('answers its first request promptly after start, and status reports the tree', async () => {
    inst = new Instance('status');
    const t0 = Date.now();
    const starting = inst.start();
    // The endpoint is known only once start() has chosen the port.
    await waitFor('endpoint', () => inst?.endpoint, 5000);
    client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 100, deadlineMs: 5000 });
    expect(await client.ping()).toBe('pong');
    // The 2 s target is measured by `npm run bench` (start to first answer); here two test
    // files share two cores, so the bound only proves the first answer does not wait for
    // the standby or an alarm.
    expect(Date.now() - t0).toBeLessThan(5000);
    await starting;
    await client.set('k', 'v');
    const r = await inst.cli(['status', '--json', ...inst.instanceArgs]);
    expect(r.exitCode).toBe(0);
    const s = JSON.parse(r.stdout) as { epoch: number; commitSeq: number; standby: string; processes: { role: string; pid: number }[] };
    expect(s.epoch).toBe(1);
    expect(s.standby).toBe('in-sync');
    expect(s.processes.map((p) => p.role).sort()).toEqual(['primary', 'secondary', 'watchdog']);
    await waitFor('commitSeq in status', async () => {
      const again = JSON.parse((await inst!.cli(['status', '--json', ...inst!.instanceArgs])).stdout) as { commitSeq: number };
      return again.commitSeq >= 1;
    }, 5000, 200);
    const human = await inst.cli(['status', ...inst.instanceArgs]);
    expect(human.stdout).toMatch(/ROLE\s+PID\s+STATE/);
    expect(human.stdout).toMatch(/standby in-sync/);
  });

  it('status of an instance that is not running: exit 1 with one line', async () => {
    const i = new Instance('absent');
    const r = await i.cli(['status', ...i.instanceArgs]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not running/);
    await i.destroy();
  });

  for (const how of ['stop', 'SIGINT', 'SIGTERM'] as const) {
    it(`${how}: graceful within 5 s, exit 0, every IPC object removed`, async () => {
      inst = new Instance(`stop-${how.toLowerCase()}`);
      await inst.start();
      const c = new Client({ endpoint: inst.endpoint, deadlineMs: 5000 });
      await c.set('k', 'v');
      await c.close();
      const t0 = Date.now();
      if (how === 'stop') {
        const r = await inst.cli(['stop', ...inst.instanceArgs]);
        expect(r.exitCode).toBe(0);
      } else {
        inst.proc?.kill(how);
      }
      const result = await inst.proc!;
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(result.exitCode).toBe(0);
      expect(inst.events.some((e) => e.event === 'cleaned')).toBe(true);
      expect(await inst.leftovers()).toEqual([]);
    });
  }

  it('keeps the 3 s default alarm: a hung primary is detected after 3 s, not before', async () => {
    inst = new Instance('default-alarm', { pingInterval: 1000, alarm: 3000 });
    await inst.start();
    client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 500, deadlineMs: 15_000 });
    await client.set('k', 'v');
    const pid = inst.currentPid('primary');
    const t0 = Date.now();
    process.kill(pid, 'SIGSTOP');
    await inst.waitEvent((e) => e.event === 'ping-missed', 8000);
    const detected = Date.now() - t0;
    expect(detected).toBeGreaterThanOrEqual(2900);
    expect(detected).toBeLessThan(3000 + 1000 + 1500);
    await inst.waitEvent((e) => e.event === 'promoted', 5000);
    expect(isAlive(pid)).toBe(false);
    expect(await client.get('k')).toBe('v');
  });

  it('a full restart keeps the data (graceful stop leaves a snapshot)', async () => {
    inst = new Instance('restart');
    await inst.start();
    let c = new Client({ endpoint: inst.endpoint, deadlineMs: 5000 });
    await c.set('persist', 'yes');
    await c.incr('n', 41);
    await c.close();
    await inst.cli(['stop', ...inst.instanceArgs]);
    await inst.proc;
    await inst.start();
    c = new Client({ endpoint: inst.endpoint, deadlineMs: 5000 });
    expect(await c.get('persist')).toBe('yes');
    expect(await c.incr('n')).toBe(42);
    await c.close();
  });
});
