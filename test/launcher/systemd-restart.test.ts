// The launcher at the top of the tree under systemd (Type=notify, KillMode=process): READY
// once the primary answers, keep-alives from the launcher's own loop, and a launcher that
// systemd restarts takes over the live watchdog instead of disturbing the servers.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { fakeSystemd } from '../systemd/fake-systemd.js';
import { freePort, Instance, isAlive, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let c: Client | null = null;
let sd: ReturnType<typeof fakeSystemd> | null = null;

afterEach(async () => {
  await teardown(inst, c);
  sd?.close();
  inst = null;
  c = null;
  sd = null;
});

describe('the launcher under systemd', () => {
  it('says READY once the primary answers; a killed launcher is replaced by one that takes over the live watchdog, servers untouched', async () => {
    const port = await freePort();
    inst = new Instance('sd-top', { port });
    const sock = path.join(inst.tmp, 'notify.sock');
    sd = fakeSystemd(sock);
    // What systemd gives the main process of a Type=notify unit with WatchdogSec.
    inst.opts.env = { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' };
    const i = inst;
    await i.start();
    const got = sd;
    await got.until((g) => g.some((m) => m.includes('READY=1')) && g.some((m) => m === 'WATCHDOG=1'));
    expect(got.got.find((m) => m.includes('READY=1'))).toMatch(/STATUS=primary \d+ ready/);
    c = new Client({ endpoint: `tcp://127.0.0.1:${port}`, deadlineMs: 10_000 });
    await c.set('k', 'before');
    const servers = [i.currentPid('primary'), i.currentPid('secondary')];
    const watchdog = i.watchdogPid;
    const first = i.launcherPid;

    // KillMode=process: systemd kills the main process only, then starts the unit again.
    process.kill(first, 'SIGKILL');
    await waitFor('the first launcher gone', () => !isAlive(first));
    const readies = got.got.filter((m) => m.includes('READY=1')).length;
    await i.start({ waitReady: false });
    await waitFor('the new launcher to take over', () => i.stdout.includes(`taking over watchdog pid ${watchdog}`), 10_000);
    // A new activation: READY again, once the primary answers through the adopted watchdog.
    await got.until((g) => g.filter((m) => m.includes('READY=1')).length > readies);
    expect(got.got.filter((m) => m.includes('READY=1')).length).toBeGreaterThan(readies);
    for (const pid of [...servers, watchdog]) expect(isAlive(pid)).toBe(true);
    expect(await c.get('k')).toBe('before');
    await c.set('k', 'after');
    expect(await c.get('k')).toBe('after');
    // The teardown stops the new launcher (SIGTERM): it stops the adopted watchdog and the tree.
  });
});
