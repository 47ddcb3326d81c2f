// A service that is not deterministic (Math.random in a command) is caught by the digest
// check within 10 s of commands flowing: a `diverged` event, and a standby synced afresh.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, teardown, waitFor } from '../helpers/instance.js';
import { writeLoad } from '../helpers/load.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

const NONDETERMINISTIC = `export default {
  name: 'dice',
  init: () => ({ rolls: [] }),
  commands: { roll(s) { const r = Math.floor(Math.random() * 1e9); s.rolls.push(r); return r; } },
  queries: { count: (s) => s.rolls.length },
};
`;

describe('divergence detection', () => {
  it('a command using Math.random is caught within 10 s, and the standby is replaced', async () => {
    inst = new Instance('diverge');
    const file = path.join(inst.tmp, 'dice.mjs');
    fs.writeFileSync(file, NONDETERMINISTIC);
    inst.opts.extraArgs = ['--service', file];
    await inst.start();
    client = new Client({ endpoint: inst.endpoint });
    const oldStandby = inst.currentPid('secondary');
    const mark = inst.events.length;
    const t0 = Date.now();
    let n = 0;
    const diverged = await waitFor('a diverged event', async () => {
      await client!.call('roll', {}, { id: `roll-${n++}` });
      return inst!.events.slice(mark).find((e) => e.event === 'diverged');
    }, 10_000, 50);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(diverged).toMatchObject({ role: 'secondary', pid: String(oldStandby) });
    // A new standby, synced from the primary, takes its place; the service keeps serving.
    await inst.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000, inst.events.findIndex((e, k) => k >= mark && e.event === 'diverged') + 1);
    expect(inst.currentPid('secondary')).not.toBe(oldStandby);
    expect(await client.call('count')).toBe(n);
    // Reported by info and by status.
    const info = await client.info();
    expect(info.service).toMatchObject({ diverged: { pid: oldStandby } });
    const status = await inst.cli(['status', ...inst.instanceArgs]);
    expect(status.stdout).toMatch(/DIVERGED: \d+ standby\(s\) replaced/);
  }, 40_000);

  it('a deterministic service under concurrent writes is never reported diverged (each check is taken at its own position)', async () => {
    inst = new Instance('no-diverge');
    await inst.start();
    client = new Client({ endpoint: inst.endpoint });
    const mark = inst.events.length;
    // Many writers: batches of many entries, so a digest check lands behind others.
    const load = writeLoad(client, 'nd', 16);
    const t0 = Date.now();
    // Past two periodic checks (every 4 s while commands flow).
    await waitFor('two digest periods of writes', () => Date.now() - t0 > 9000 && load.acked.length > 500, 30_000, 100);
    await load.stop();
    expect(inst.events.slice(mark).filter((e) => e.event === 'diverged')).toEqual([]);
    expect(load.errors).toEqual([]);
  }, 60_000);
});
