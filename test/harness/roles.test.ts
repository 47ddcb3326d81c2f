// Who holds which role, read from events alone: through a failover, an adoption (including a
// secondary promoted just before its watchdog died) and a replacement.
import { describe, expect, it } from 'vitest';
import { RoleTracker } from '../../dist/harness/roles.js';
import type { EventName, WatchdogEvent } from '../../dist/protocol/events.js';

const ev = (event: EventName, fields: Record<string, string | number | boolean> = {}): WatchdogEvent => ({ ts: new Date(0).toISOString(), event, ...fields });

function replay(events: WatchdogEvent[]): RoleTracker {
  const t = new RoleTracker();
  for (const e of events) t.apply(e);
  return t;
}

describe('RoleTracker', () => {
  const start = [ev('starting', { pid: 10 }), ev('spawned', { role: 'primary', pid: 11 }), ev('spawned', { role: 'secondary', pid: 12 })];

  it('start: watchdog, primary and secondary from their events', () => {
    const t = replay(start);
    expect([t.watchdog, t.primary, t.secondary]).toEqual([10, 11, 12]);
    expect([...t.announced]).toEqual([10, 11, 12]);
  });

  it('failover: the promoted secondary is the primary, and nobody is the secondary until the respawn', () => {
    const t = replay([...start, ev('exited', { role: 'primary', pid: 11 }), ev('detected', { role: 'primary', pid: 11 }), ev('fenced', { role: 'primary', pid: 11 })]);
    expect(t.primary).toBe(0);
    t.apply(ev('promoted', { role: 'primary', pid: 12 }));
    expect([t.primary, t.secondary]).toEqual([12, 0]);
    t.apply(ev('respawned', { role: 'secondary', pid: 13 }));
    expect([t.primary, t.secondary]).toEqual([12, 13]);
  });

  it('adoption: a successor watchdog and the roles the servers report', () => {
    const t = replay([...start, ev('starting', { pid: 20, adopting: true }), ev('adopted', { role: 'primary', pid: 11 }), ev('adopted', { role: 'secondary', pid: 12 })]);
    expect([t.watchdog, t.primary, t.secondary]).toEqual([20, 11, 12]);
  });

  it('adoption after a promotion the dead watchdog never announced: the adopted roles win', () => {
    const t = replay([
      ...start,
      ev('starting', { pid: 20, adopting: true }),
      ev('fenced', { role: 'primary', pid: 11 }),
      ev('adopted', { role: 'primary', pid: 12 }),
      ev('respawned', { role: 'secondary', pid: 21 }),
    ]);
    expect([t.primary, t.secondary]).toEqual([12, 21]);
  });

  it('a pid given as a string (an old text line) counts the same; events without a pid change nothing', () => {
    const t = replay([...start, ev('cleaned', { removed: 'nothing' }), ev('stopped', { role: 'secondary', pid: '12' as unknown as number })]);
    expect([t.primary, t.secondary]).toEqual([11, 0]);
  });
});
