// The state digest hashed in slices: the same digest as in one go, taken at one commit point
// (commands held until it settles), with the event loop running between slices.
import { describe, expect, it } from 'vitest';
import { ServiceHost } from '../../dist/host/host.js';
import type { ServiceDefinition } from '../../dist/host/service.js';

/** A list of strings, snapshotted in parts of a thousand. */
interface List {
  items: string[];
}
const list: ServiceDefinition<List> = {
  init: () => ({ items: [] }),
  commands: {
    push(s, args) {
      s.items.push((args as { item: string }).item);
      return s.items.length;
    },
  },
  *snapshot(s) {
    for (let i = 0; i < s.items.length; i += 1000) yield s.items.slice(i, i + 1000);
  },
  restore(parts) {
    const items: string[] = [];
    for (const p of parts as Iterable<string[]>) items.push(...p);
    return { items };
  },
};

function listOf(n: number): ServiceHost<List> {
  const h = new ServiceHost(list, { dedupWindow: 10 });
  for (let i = 1; i <= n; i++) h.apply({ id: `s${i}`, op: 'push', args: { item: `value-${i}` }, digest: 'd', seq: i, at: i });
  return h;
}

describe('state digest in slices', () => {
  it('equals the digest in one go, holds commands until it settles, and lets the event loop run meanwhile', async () => {
    const h = listOf(200_000);
    const whole = h.digest();
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const sliced = h.digestInSlices(2);
    expect(h.held).toBe(true);
    expect(() => h.apply({ id: 'late', op: 'push', args: { item: 'x' }, digest: 'd', seq: h.seq + 1, at: 0 })).toThrow(/snapshot/);
    expect(await sliced).toBe(whole);
    clearInterval(ticker);
    expect(h.held).toBe(false);
    expect(turns).toBeGreaterThan(1);
  });

  it('a promotion abandons it: commands go through at once and the digest is void', async () => {
    const h = listOf(100_000);
    const sliced = h.digestInSlices(1);
    expect(h.held).toBe(true);
    h.abandonDigests();
    expect(h.held).toBe(false);
    await expect(sliced).rejects.toThrow(/abandoned/);
    h.apply({ id: 'after', op: 'push', args: { item: 'x' }, digest: 'd', seq: h.seq + 1, at: 0 });
  });

  it('a standby reports a divergence found by its sliced digest', async () => {
    const p = listOf(1000);
    const s = listOf(1000);
    s.state.items[5] = 'drifted';
    const found: unknown[] = [];
    s.onDiverged = (d) => found.push(d);
    const check = { id: '@d1', op: '@digest', args: { digest: p.digest() }, digest: 'digest', seq: 1001, at: 0 };
    s.apply(check);
    expect(s.held).toBe(true);
    await new Promise<void>((r) => s.onRelease(r));
    await new Promise((r) => setImmediate(r));
    expect(found).toEqual([{ seq: 1000, primary: p.digest(), mine: expect.any(String) }]);
  });
});
