// `osps chaos run` in-process: a real tree (dist/, built by pretest) under load from real
// client worker processes, 20 seeded faults, and every invariant checked afterwards.
import { execa } from 'execa';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runChaos, type ChaosReport } from '../../dist/chaos/run.js';
import { LAUNCHER, waitFor } from '../helpers/instance.js';

/** Pids whose command line names `marker` (read-only scan of /proc). */
function processesNaming(marker: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

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
    // Every copy agrees: primary, promoted standby, journal replayed elsewhere, restarted tree.
    expect.soft(r.copies.mismatches, msg).toBe(0);
    expect.soft(r.copies.primary, msg).not.toBeNull();
    for (const d of [r.copies.standby, r.copies.journal, r.copies.restarted]) expect.soft(d, msg).toBe(r.copies.primary);
    expect.soft(r.nonLinearizable, msg).toBe(0);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('SIGINT ends a run early but cleanly: report, exit 1, nothing left behind', { timeout: 90_000 }, async () => {
    const run = execa('node', [LAUNCHER, 'chaos', 'run', '--faults', '200', '--seed', '4242', '--clients', '1'], { reject: false, all: true });
    let seen = '';
    run.stderr?.on('data', (d: Buffer) => (seen += d.toString()));
    await waitFor('the first fault', () => seen.includes('fault 1/200'), 60_000);
    const instance = `chaos-4242-${run.pid}`;
    expect(processesNaming(instance).length).toBeGreaterThan(0);
    run.kill('SIGINT');
    const r = await run;
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/interrupted by SIGINT after \d+ of 200 faults/);
    expect(r.stdout).toMatch(/leaked\s+0/);
    expect(r.stdout).toMatch(/orphans\s+0/);
    expect(processesNaming(instance)).toEqual([]);
    expect(fs.readdirSync('/dev/shm').filter((f) => f.includes(instance))).toEqual([]);
  });
});
