// A large state through the two slow paths: a whole-tree SIGKILL (the primary rebuilds it
// from the journal before it answers anything) and a new standby streamed from the primary,
// which keeps answering pings under the alarm the whole time, digest check included.
import { describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance } from '../helpers/instance.js';
import { tracked } from '../helpers/tracked.js';

const KEYS = 200_000;
const IN_FLIGHT = 256;
const ALARM_MS = 1000;

const t = tracked();
/** The client library's own attempt timer: 256 requests in flight on a busy host. */
const CLIENT = { requestTimeoutMs: 1000 };

const key = (i: number) => `k${i}`;
const value = (i: number) => `v${i}`.padEnd(16, '.');

/** Runs `op(i)` for every i < n, IN_FLIGHT at a time. */
async function each(n: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    for (let i = next++; i < n; i = next++) await op(i);
  }));
}

describe('a large state', () => {
  it(`${KEYS} keys: a whole-tree SIGKILL brings every key back; a new standby syncs them while the primary answers under the alarm`, async () => {
    const inst = t.track(new Instance('scale', { alarm: ALARM_MS }));
    await inst.start();
    let c = t.client(inst, 30_000, CLIENT);
    await each(KEYS, async (i) => void (await c.set(key(i), value(i))));
    await c.close();

    // Every process at once, right after the last acknowledgement.
    for (const p of [inst.launcherPid, inst.watchdogPid, inst.currentPid('primary'), inst.currentPid('secondary')]) process.kill(p, 'SIGKILL');
    await inst.proc;
    await inst.start();
    c = t.client(inst, 30_000, CLIENT);
    const wrong: number[] = [];
    await each(KEYS, async (i) => {
      if ((await c.get(key(i))) !== value(i)) wrong.push(i);
    });
    expect(wrong.slice(0, 10)).toEqual([]);
    expect((await c.info()).keys).toBe(KEYS);

    // A new standby: the primary streams the whole state, then both hash it for the digest check.
    const mark = inst.events.length;
    const rtts: number[] = [];
    let pinging = true;
    const pinger = (async () => {
      const p = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 5000, deadlineMs: 10_000 });
      while (pinging) {
        const t0 = performance.now();
        await p.ping();
        rtts.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
      await p.close();
    })();
    process.kill(inst.currentPid('secondary'), 'SIGKILL');
    await inst.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 60_000, mark);
    // The first digest check of the new pair runs right after it comes in sync.
    await new Promise((r) => setTimeout(r, 2000));
    pinging = false;
    await pinger;
    // The killed standby may be reported fenced; nothing may happen to the primary.
    const trouble = inst.events.slice(mark).filter((e) => ['ping-missed', 'promoted', 'diverged'].includes(e.event) || (e.event === 'fenced' && e.role === 'primary'));
    expect(trouble).toEqual([]);
    expect(Math.max(...rtts)).toBeLessThan(ALARM_MS);
    expect(await c.get(key(KEYS - 1))).toBe(value(KEYS - 1));
  }, 300_000);
});
