// A standby that dies is reported gone at once: `status` (the watchdog) and INFO (the primary,
// over zeromq and RESP) speak as of the last event they know of, never of the last pong.
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { adminRequest } from '../../dist/client/admin-client.js';
import type { InstanceStatus } from '../../dist/protocol/admin.js';
import { freePort, Instance, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;
let resp: net.Socket | null = null;
afterEach(async () => {
  resp?.destroy();
  resp = null;
  await teardown(inst, client);
  inst = null;
  client = null;
});

async function status(i: Instance): Promise<InstanceStatus> {
  const r = await adminRequest(i.paths, { op: 'status' });
  if (!r?.ok) throw new Error(`no status: ${JSON.stringify(r)}`);
  return r.result as InstanceStatus;
}

/** Sends INFO replication on an open RESP connection; resolves with the osps_standby field. */
function respStandby(sock: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const m = /osps_standby:([a-z-]+)\r\n/.exec(got);
      if (m) {
        sock.off('data', onData);
        resolve(m[1]!);
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write('*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n');
  });
}

describe('the standby state after the standby dies', () => {
  it('the very next status, info and RESP INFO do not say in-sync', async () => {
    const respPort = await freePort();
    // The default ping period: a pong sampled before the kill is up to a second old.
    inst = new Instance('standby-state', { pingInterval: 1000, alarm: 3000, extraArgs: ['--resp', `127.0.0.1:${respPort}`] });
    await inst.start();
    client = new Client({ endpoint: inst.endpoint });
    await client.set('k', 'v');
    await waitFor('status in-sync', async () => (await status(inst!)).standby === 'in-sync');
    expect((await client.info()).standby).toBe('in-sync');
    resp = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(respPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    expect(await respStandby(resp)).toBe('in-sync');

    // The primary is held still (well within the alarm), so it cannot tell anyone that its link
    // broke: what the watchdog says comes from what the watchdog itself saw.
    const primary = inst.currentPid('primary');
    const standby = inst.currentPid('secondary');
    process.kill(primary, 'SIGSTOP');
    let held = true;
    try {
      process.kill(standby, 'SIGKILL');
      // Reaped by its parent, the watchdog: the exit is an event it has already handled.
      await waitFor('the standby reaped', () => !fs.existsSync(`/proc/${standby}`), 5000, 1);
      const next = await status(inst);
      expect(next.standby).not.toBe('in-sync');
      expect(next.processes.some((p) => p.pid === standby)).toBe(false);

      // Asked while it is stopped, the primary answers once it runs again: the end of the
      // standby's FIFO and the requests are then all waiting, to be read in any order.
      const info = client.info();
      const respInfo = respStandby(resp);
      process.kill(primary, 'SIGCONT');
      held = false;
      expect((await info).standby).not.toBe('in-sync');
      expect(await respInfo).not.toBe('in-sync');
    } finally {
      if (held) process.kill(primary, 'SIGCONT');
    }

    // The CLI takes a few hundred ms to start, in which a new standby may have synced already:
    // in sync then means that one, never the dead one.
    const cli = await inst.cli(['status', '--json', ...inst.instanceArgs]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    const after = JSON.parse(cli.stdout) as InstanceStatus;
    expect(after.processes.some((p) => p.pid === standby)).toBe(false);
    if (after.standby === 'in-sync') expect(after.processes.find((p) => p.role === 'secondary')?.pid).not.toBe(standby);
    // And a new standby comes back in sync, with the primary never failed over.
    await waitFor('a new standby in sync', async () => (await status(inst!)).standby === 'in-sync', 15_000, 50);
    expect(inst.events.filter((e) => e.event === 'promoted')).toEqual([]);
  }, 60_000);
});
