// A flood of clients takes every descriptor the primary may open; the descriptors a re-pair
// needs are held in reserve, so a new standby still opens its FIFOs and syncs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { Instance, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let flood: zmq.Dealer[] = [];

afterEach(async () => {
  for (const s of flood) s.close();
  flood = [];
  await teardown(inst, null);
  inst = null;
});

const openFds = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

describe('descriptors reserved for the pair', () => {
  it('with the primary at a 256 open-file limit and 300 client connections, each new standby still syncs', async () => {
    inst = new Instance('fdres');
    await inst.start();
    await inst.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000);
    const primary = inst.currentPid('primary');
    execFileSync('prlimit', ['--pid', String(primary), '--nofile=256:256']);
    for (let k = 0; k < 300; k++) {
      const s = new zmq.Dealer({ linger: 0 });
      s.connect(inst.endpoint);
      flood.push(s);
    }
    // The flood has taken every free descriptor of the primary.
    await waitFor('the primary at its open-file limit', () => openFds(primary) >= 250, 15_000);
    // Again and again: each re-pair leaves enough in reserve for the next.
    for (let round = 0; round < 3; round++) {
      const mark = inst.events.length;
      process.kill(inst.currentPid('secondary'), 'SIGKILL');
      await inst.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000, mark);
    }
    expect(inst.currentPid('primary')).toBe(primary);
  });
});
