// `osps chaos run` in-process: a real tree (dist/, built by pretest) under load from real
// client worker processes, 20 seeded faults, and every invariant checked afterwards.
import { describe, expect, it } from 'vitest';
import { runChaos, type ChaosReport } from '../../src/chaos/run.js';

function why(r: ChaosReport): string {
  return [...r.violations, ...r.evidence.slice(0, 12)].join('\n');
}

describe('osps chaos run', () => {
  it('20 seeded faults under 3 clients: nothing lost, no wrong read, no needless failover, nothing left behind', { timeout: 150_000 }, async () => {
    // The time budget only bounds a run whose recoveries drag on: it then reports how far it got.
    const r = await runChaos({ faults: 20, seed: 12345, clients: 3, json: true, timeBudgetMs: 100_000 });
    const msg = why(r);
    expect.soft(r.acknowledged, msg).toBeGreaterThan(0);
    expect.soft(r.faults, msg).toHaveLength(20);
    expect.soft(r.faults.filter((f) => f.recoveryMs === null).map((f) => f.kind), msg).toEqual([]);
    expect.soft(r.lost, msg).toBe(0);
    expect.soft(r.duplicated, msg).toBe(0);
    expect.soft(r.wrongReads, msg).toBe(0);
    expect.soft(r.needlessFailovers, msg).toBe(0);
    expect.soft(r.unserved, msg).toBe(0);
    expect.soft(r.undetected, msg).toBe(0);
    expect.soft(r.leaked, msg).toEqual([]);
    expect.soft(r.orphans, msg).toEqual([]);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
