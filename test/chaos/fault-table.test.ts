// The fault table drives the planner, the checker and the CLI: a seed must keep planning the
// same faults, and every fault's options must reach the command line.
import { describe, expect, it } from 'vitest';
import { FAULTS, faultHelp, faultSpec } from '../../dist/chaos/faults.js';
import { CHAOS_FAULTS, kindOf, planFaults } from '../../dist/chaos/plan.js';
import { buildProgram } from '../../dist/cli/main.js';

describe('fault table', () => {
  it('a seed plans the same faults as it always did (a printed seed replays)', () => {
    expect(planFaults(12345, 12, 700)).toEqual([
      { fault: 'slow-fsync', opts: { delayMs: 70, forMs: 1050 } },
      { fault: 'pause', opts: { role: 'primary', forMs: 233 } },
      { fault: 'flap-watchdog', opts: { times: 2 } },
      { fault: 'fill-ring', opts: { forMs: 350 } },
      { fault: 'pause', opts: { role: 'primary', forMs: 233 } },
      { fault: 'flap-watchdog', opts: { times: 2 } },
      { fault: 'slow-fsync', opts: { delayMs: 70, forMs: 1050 } },
      { fault: 'flap-standby', opts: { times: 2 } },
      { fault: 'corrupt-shm', opts: { where: 'entry' } },
      { fault: 'disk-full', opts: { forMs: 700 } },
      { fault: 'slow-fsync', opts: { delayMs: 70, forMs: 1050 } },
      { fault: 'kill-tree', opts: {} },
    ]);
  });

  it('the chaos run draws every fault but kill-launcher', () => {
    expect(CHAOS_FAULTS).toEqual(FAULTS.filter((f) => f !== 'kill-launcher'));
    const drawn = new Set(planFaults(7, 500, 700).map((p) => p.fault));
    expect([...drawn].sort()).toEqual([...CHAOS_FAULTS].sort());
  });

  it('expected effects: a failover exactly for the primary killed, hung past the alarm, or over its memory ceiling', () => {
    const alarm = 700;
    const failover = (f: (typeof FAULTS)[number], o = {}) => faultSpec(f).failover(o, alarm);
    expect(failover('kill-primary')).toBe(true);
    expect(failover('kill-secondary')).toBe(false);
    expect(failover('hang-primary')).toBe(true);
    expect(failover('hang-primary', { forMs: 300 })).toBe(false);
    expect(failover('hang-primary', { forMs: 1400 })).toBe(true);
    expect(failover('memory-hog', { role: 'secondary' })).toBe(false);
    expect(failover('memory-hog')).toBe(true);
    expect(failover('pause', { role: 'primary', forMs: 233 })).toBe(false);
    expect(faultSpec('corrupt-shm').acts({}, alarm, 'no unread entry')).toBe(false);
    expect(faultSpec('corrupt-shm').acts({}, alarm, 'flipped byte 12')).toBe(true);
    expect(kindOf('cut-pipe', { pipe: 'p2s', how: 'frame' })).toBe('cut-pipe --pipe p2s');
    expect(failover('kill-servers')).toBe(true);
    expect(failover('kill-tree')).toBe(false);
    expect(faultSpec('kill-tree').restartsTree).toBe(true);
    expect(failover('cpu-starve', { role: 'primary', forMs: 1400 })).toBe(false);
    expect(failover('flap-watchdog', { times: 3 })).toBe(false);
    expect(faultSpec('flap-standby').restarts({ times: 3 }, alarm, {} as never)).toBe(3);
    expect(kindOf('flap-standby', { times: 3 })).toBe('flap-standby --times 3');
    expect(failover('disk-full', { forMs: 5000 })).toBe(false);
    expect(faultSpec('slow-fsync').acts({ delayMs: 500, forMs: 5000 }, alarm, '')).toBe(false);
    expect(kindOf('slow-fsync', { delayMs: 70, forMs: 1050 })).toBe('slow-fsync --delay 70 --for 1050');
  });

  it('every fault is a chaos subcommand with its help and each of its options', () => {
    const chaos = buildProgram().commands.find((c) => c.name() === 'chaos');
    for (const f of FAULTS) {
      const cmd = chaos?.commands.find((c) => c.name() === f);
      expect(cmd?.description()).toBe(faultHelp(f));
      const flags = cmd?.options.map((o) => o.long) ?? [];
      for (const o of faultSpec(f).options) expect(flags).toContain(`--${o.flag}`);
    }
  });
});
