// The state digest hashed in slices: the same digest as in one go, taken at one commit point
// (commands held until it settles), with the event loop running between slices.
import { describe, expect, it } from 'vitest';
import { ServiceHost } from '../../dist/host/host.js';
import { kvService, type KvState } from '../../dist/services/kv/service.js';

function kvWith(n: number): ServiceHost<KvState> {
  const h = new ServiceHost(kvService, { dedupWindow: 10 });
  for (let i = 1; i <= n; i++) h.apply({ id: `s${i}`, op: 'set', args: { key: `k${i}`, value: `value-${i}` }, digest: 'd', seq: i, at: i });
  return h;
}

describe('state digest in slices', () => {
  it('equals the digest in one go, holds commands until it settles, and lets the event loop run meanwhile', async () => {
    const h = kvWith(200_000);
    const whole = h.digest();
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const sliced = h.digestInSlices(2);
    expect(h.held).toBe(true);
    expect(() => h.apply({ id: 'late', op: 'set', args: { key: 'k1', value: 'x' }, digest: 'd', seq: h.seq + 1, at: 0 })).toThrow(/snapshot/);
    expect(await sliced).toBe(whole);
    clearInterval(ticker);
    expect(h.held).toBe(false);
    expect(turns).toBeGreaterThan(1);
  });

  it('a promotion abandons it: commands go through at once and the digest is void', async () => {
    const h = kvWith(100_000);
    const sliced = h.digestInSlices(1);
    expect(h.held).toBe(true);
    h.abandonDigests();
    expect(h.held).toBe(false);
    await expect(sliced).rejects.toThrow(/abandoned/);
    h.apply({ id: 'after', op: 'set', args: { key: 'k1', value: 'x' }, digest: 'd', seq: h.seq + 1, at: 0 });
  });

  it('a standby reports a divergence found by its sliced digest', async () => {
    const p = kvWith(1000);
    const s = kvWith(1000);
    s.state.map.set('k5', 'drifted');
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
