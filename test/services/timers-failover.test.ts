// After a failover the new primary fires every overdue timer at once, in due order, each
// with a ctx.now at or after its due time; a cancelled timer never fires.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

const MODULE = `export default {
  name: 'ticks',
  init: () => ({ fired: [] }),
  commands: {
    arm(s, { n, delayMs }, ctx) { return ctx.schedule('tick', delayMs, { n, due: ctx.now + delayMs }); },
    disarm(s, { id }, ctx) { return ctx.cancel(id); },
  },
  queries: { fired: (s) => s.fired },
  timers: { tick(s, { n, due }, ctx) { s.fired.push({ n, due, now: ctx.now }); } },
};
`;

describe('timers across a failover', () => {
  it('overdue timers fire at once on the new primary, in due order; a cancelled one does not', async () => {
    inst = new Instance('timers-failover', { alarm: 1000 });
    const file = path.join(inst.tmp, 'ticks.mjs');
    fs.writeFileSync(file, MODULE);
    inst.opts.extraArgs = ['--service', file];
    await inst.start();
    client = new Client({ endpoint: inst.endpoint, deadlineMs: 20_000 });
    // Scheduled in reverse due order; n=2 is cancelled.
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push((await client.call('arm', { n, delayMs: 900 - n * 100 }, { id: `arm-${n}` })) as string);
    expect(await client.call('disarm', { id: ids[2] })).toBe(true);
    const mark = inst.events.length;
    process.kill(inst.currentPid('primary'), 'SIGSTOP');
    await inst.waitEvent((e) => e.event === 'promoted', 15_000, mark);
    const fired = await waitFor('the timers to fire', async () => {
      const f = (await client!.call('fired')) as { n: number; due: number; now: number }[];
      return f.length >= 5 ? f : null;
    }, 10_000, 50);
    expect(fired.map((f) => f.n)).toEqual([5, 4, 3, 1, 0]);
    for (const f of fired) expect(f.now).toBeGreaterThanOrEqual(f.due);
    for (let k = 1; k < fired.length; k++) expect(fired[k]!.now).toBeGreaterThanOrEqual(fired[k - 1]!.now);
  }, 60_000);
});
