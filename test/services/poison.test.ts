// A request whose application kills or hangs the primary twice is quarantined: answered
// POISONED from then on, never applied again, while every other request is served and the
// restart intensity holds. It holds across a journal replay (a whole-tree restart) too.
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
  name: 'fragile',
  init: () => ({ n: 0 }),
  commands: {
    add(s, { by = 1 } = {}) { s.n += by; return s.n; },
    spin(s, { forever = false } = {}) { while (forever) {} s.n += 1; return s.n; },
    bye() { process.exit(); },
  },
  queries: { n: (s) => s.n },
};
`;

describe('poison quarantine', () => {
  for (const [label, op, args] of [
    ['a command that loops forever on one argument', 'spin', { forever: true }],
    ['a command that calls process.exit', 'bye', {}],
  ] as const) {
    it(`${label}: POISONED after two strikes, others served, intensity kept`, async () => {
      inst = new Instance(`poison-${op}`, { maxRestarts: 5, alarm: 1000 });
      const file = path.join(inst.tmp, 'fragile.mjs');
      fs.writeFileSync(file, MODULE);
      inst.opts.extraArgs = ['--service', file];
      await inst.start();
      // The client retries the same id across each failover: the second strike ends it.
      client = new Client({ endpoint: inst.endpoint, deadlineMs: 40_000, requestTimeoutMs: 1000 });
      expect(await client.call('add', {}, { id: 'a1' })).toBe(1);
      await expect(client.call(op, args, { id: 'bad-1' })).rejects.toMatchObject({ code: 'POISONED' });
      // Two primaries died of it, each seen by the watchdog. The second may die before a new
      // standby is in sync (the client resends as soon as it reconnects): a fresh primary from
      // the journal then takes over instead of a promotion. The reply can overtake the event line.
      const deaths = () => inst!.events.filter((e) => e.event === 'detected' && e.role === 'primary').length;
      await waitFor('the second strike on the event stream', () => deaths() >= 2);
      expect(deaths()).toBe(2);
      expect(inst.events.some((e) => e.event === 'give-up')).toBe(false);
      // Other requests, including the same op with a harmless argument, are served.
      expect(await client.call('add', {}, { id: 'a2' })).toBe(2);
      if (op === 'spin') expect(await client.call('spin', { forever: false }, { id: 's1' })).toBe(3);
      // Asked again, it is still quarantined and never applied.
      await expect(client.call(op, args, { id: 'bad-1' })).rejects.toMatchObject({ code: 'POISONED' });
      // And after a whole-tree restart (journal replay).
      await client.close();
      client = null;
      const pids = [inst.launcherPid, inst.watchdogPid, inst.currentPid('primary'), inst.currentPid('secondary')];
      for (const p of pids) process.kill(p, 'SIGKILL');
      await inst.proc;
      await inst.start();
      client = new Client({ endpoint: inst.endpoint, deadlineMs: 20_000 });
      await expect(client.call(op, args, { id: 'bad-1' })).rejects.toMatchObject({ code: 'POISONED' });
      expect(await client.call('n')).toBe(op === 'spin' ? 3 : 2);
    }, 120_000);
  }
});

describe('poison quarantine on journal replay', () => {
  it('an entry that crashes the replay is quarantined after two strikes; the rest of the journal is replayed', async () => {
    inst = new Instance('poison-replay', { maxRestarts: 5 });
    const trap = path.join(inst.tmp, 'trap');
    const file = path.join(inst.tmp, 'replay.mjs');
    // Deliberately not deterministic: a command that crashes whenever a file exists, so it
    // applies once and then kills every replay of the journal.
    fs.writeFileSync(file, `import fs from 'node:fs';
export default {
  init: () => ({ n: 0 }),
  commands: {
    add(s) { s.n += 1; return s.n; },
    trap(s) { if (fs.existsSync(${JSON.stringify(trap)})) process.exit(1); s.n += 100; return s.n; },
  },
  queries: { n: (s) => s.n },
};
`);
    inst.opts.extraArgs = ['--service', file];
    await inst.start();
    client = new Client({ endpoint: inst.endpoint, deadlineMs: 20_000 });
    await client.call('add', {}, { id: 'a1' });
    expect(await client.call('trap', {}, { id: 'trap-1' })).toBe(101);
    await client.call('add', {}, { id: 'a2' });
    await client.close();
    client = null;
    fs.writeFileSync(trap, '');
    const pids = [inst.launcherPid, inst.watchdogPid, inst.currentPid('primary'), inst.currentPid('secondary')];
    for (const p of pids) process.kill(p, 'SIGKILL');
    await inst.proc;
    await inst.start();
    client = new Client({ endpoint: inst.endpoint, deadlineMs: 20_000 });
    // Replayed without the trap entry: both adds, and the trap answered POISONED from now on.
    expect(await client.call('n')).toBe(2);
    await expect(client.call('trap', {}, { id: 'trap-1' })).rejects.toMatchObject({ code: 'POISONED' });
    expect(inst.events.some((e) => e.event === 'give-up')).toBe(false);
  }, 90_000);
});
