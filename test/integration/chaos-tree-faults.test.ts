// The faults against several processes, or one again and again: each injected through the
// CLI on a real tree under load, and its promised outcome checked.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, isAlive, teardown, waitFor, type Event } from '../helpers/instance.js';
import { writeLoad } from '../helpers/load.js';

let inst: Instance | null = null;
let client: Client | null = null;

afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

async function start(label: string, extra: string[] = []): Promise<{ i: Instance; c: Client }> {
  inst = new Instance(label, { pingInterval: 100, alarm: 1000, maxRestarts: 100, extraArgs: ['--sample-interval', '200', ...extra] });
  await inst.start();
  client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 300, deadlineMs: 20_000 });
  return { i: inst, c: client };
}

async function chaos(i: Instance, args: string[]) {
  const r = await i.cli(['chaos', ...args, ...i.instanceArgs, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { fault: string; role: string; pid: number; detail: string };
}

const inSyncAfter = (i: Instance, mark: number): Promise<Event> => i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000, mark);

async function verify(c: Client, l: ReturnType<typeof writeLoad>): Promise<void> {
  await l.stop();
  for (const k of l.acked) expect(await c.get(k)).toBe(k);
  expect(l.errors).toEqual([]);
}

describe('osps chaos: tree faults', () => {
  it('kill-servers: both servers SIGKILLed at once; a fresh pair serves everything acknowledged', async () => {
    const { i, c } = await start('t-kills');
    const l = writeLoad(c, 'ks-');
    await waitFor('load', () => l.acked.length > 50);
    const mark = i.events.length;
    const rec = await chaos(i, ['kill-servers']);
    expect(rec.detail).toMatch(/^primary \d+ SIGKILL, secondary \d+ SIGKILL$/);
    await inSyncAfter(i, mark);
    await verify(c, l);
  });

  it('kill-tree: every process SIGKILLed; a new start reclaims and serves the journaled state', async () => {
    const { i, c } = await start('t-killt');
    for (let k = 0; k < 50; k++) await c.set(`kt${k}`, `v${k}`);
    const pids = [...i.pids];
    const rec = await chaos(i, ['kill-tree']);
    expect(rec.detail).toMatch(/launcher \d+ SIGKILL/);
    await waitFor('every process gone', () => pids.every((p) => !isAlive(p)), 5000);
    await i.start();
    // The new tree listens on a port of its own.
    await c.close();
    client = new Client({ endpoint: i.endpoint, requestTimeoutMs: 300, deadlineMs: 20_000 });
    for (let k = 0; k < 50; k++) expect(await client.get(`kt${k}`)).toBe(`v${k}`);
  });

  it('cpu-starve: a duty-cycled primary is slow but not failed over', async () => {
    const { i, c } = await start('t-starve');
    const l = writeLoad(c, 'cs-');
    const mark = i.events.length;
    const rec = await chaos(i, ['cpu-starve', '--role', 'primary', '--for', '2000']);
    expect(rec.detail).toMatch(/starved for 2000 ms/);
    expect(i.events.slice(mark).some((e) => e.event === 'promoted' || e.event === 'ping-missed')).toBe(false);
    await verify(c, l);
  });

  it('flap-standby: the standby killed 6 times in a row; the primary keeps serving', async () => {
    const { i, c } = await start('t-flaps');
    const primary = i.currentPid('primary');
    const l = writeLoad(c, 'fs-');
    const rec = await chaos(i, ['flap-standby', '--times', '6']);
    expect(rec.detail).toMatch(/6 of 6 secondarys killed in a row; primary \d+ kept serving/);
    expect(isAlive(primary)).toBe(true);
    expect(i.currentPid('primary')).toBe(primary);
    await verify(c, l);
  });

  it('flap-watchdog: the watchdog killed 6 times in a row; the servers are adopted, never killed', async () => {
    const { i, c } = await start('t-flapw');
    const primary = i.currentPid('primary');
    const l = writeLoad(c, 'fw-');
    const mark = i.events.length;
    const rec = await chaos(i, ['flap-watchdog', '--times', '6']);
    expect(rec.detail).toMatch(/kept serving/);
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'primary', 20_000, mark);
    expect(isAlive(primary)).toBe(true);
    expect(i.events.slice(mark).some((e) => e.event === 'promoted')).toBe(false);
    await verify(c, l);
  });

  it('disk-full: journal writes fail with ENOSPC; writes refused and not applied, reads served, no failover, then writable again', async () => {
    const { i, c } = await start('t-dfull', ['--fault-injection']);
    const primary = i.currentPid('primary');
    for (let k = 0; k < 20; k++) await c.set(`df${k}`, `v${k}`);
    const mark = i.events.length;
    const injected = chaos(i, ['disk-full', '--for', '4000']);
    // While the disk is full: a write is only ever answered UNAVAILABLE, committed state is still read.
    const quick = new Client({ endpoint: i.endpoint, requestTimeoutMs: 300, deadlineMs: 400 });
    let refused = '';
    try {
      let n = 0;
      await waitFor('a write refused', async () => {
        const key = `refused${n++}`;
        const err = await quick.set(key, 'x').then(() => null, (e: Error) => e);
        if (err && /UNAVAILABLE/.test(err.message)) refused = key;
        return refused;
      }, 3500);
      expect(await quick.get('df7')).toBe('v7');
    } finally {
      await quick.close();
    }
    const rec = await injected;
    expect(rec.detail).toBe('journal writes failed with ENOSPC for 4000 ms');
    // Writable again, the refused write never applied, the same primary throughout.
    await c.set('after', 'yes');
    expect(await c.get('after')).toBe('yes');
    expect(await c.get(refused)).toBeNull();
    for (let k = 0; k < 20; k++) expect(await c.get(`df${k}`)).toBe(`v${k}`);
    expect(i.currentPid('primary')).toBe(primary);
    expect(i.events.slice(mark).some((e) => e.event === 'promoted')).toBe(false);
  });

  it('slow-fsync: each journal fdatasync delayed; writes keep being acknowledged, nothing lost, no failover', async () => {
    const { i, c } = await start('t-sfsync', ['--fault-injection']);
    const primary = i.currentPid('primary');
    const l = writeLoad(c, 'sf-');
    await waitFor('load', () => l.acked.length > 20);
    const mark = i.events.length;
    const rec = await chaos(i, ['slow-fsync', '--delay', '200', '--for', '2000']);
    expect(rec.detail).toBe('each journal fdatasync delayed 200 ms for 2000 ms');
    expect(i.currentPid('primary')).toBe(primary);
    expect(i.events.slice(mark).some((e) => e.event === 'promoted' || e.event === 'ping-missed')).toBe(false);
    await verify(c, l);
  });

  it('disk faults are refused on an instance not started with --fault-injection', async () => {
    const { i } = await start('t-dnoarm');
    const r = await i.cli(['chaos', 'disk-full', '--for', '100', ...i.instanceArgs]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/not started with --fault-injection: disk-full refused/);
  });
});
