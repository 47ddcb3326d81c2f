// Timers are replicated state: scheduled and cancelled by handlers (discarded when one throws),
// fired by a log entry, skipped if cancelled first, carried by snapshots.
import { describe, expect, it } from 'vitest';
import { ServiceHost } from '../../dist/host/host.js';
import { openSnapshot, SnapshotRestorer } from '../../dist/host/snapshot.js';
import type { ServiceDefinition } from '../../dist/host/service.js';
import { timerCommand } from '../../dist/host/timers.js';
import type { Entry } from '../../dist/protocol/replication.js';
import type { Json } from '../../dist/protocol/wire.js';

interface S {
  fired: Json[];
  ids: string[];
}
const svc: ServiceDefinition<S> = {
  name: 'timers',
  init: () => ({ fired: [], ids: [] }),
  commands: {
    later(s, args, ctx) {
      const { delay, tag } = args as { delay: number; tag: string };
      const id = ctx.schedule('ring', delay, { tag });
      s.ids.push(id);
      return id;
    },
    cancel(s, args, ctx) {
      return ctx.cancel((args as { id: string }).id);
    },
    laterThenThrow(_s, _args, ctx) {
      ctx.schedule('ring', 1, { tag: 'never' });
      throw new Error('no');
    },
  },
  timers: {
    ring(s, payload, ctx) {
      s.fired.push([(payload as { tag: string }).tag, ctx.now]);
      if ((payload as { tag: string }).tag === 'again') ctx.schedule('ring', 5, { tag: 'second' });
    },
  },
};

function host(): ServiceHost<S> {
  return new ServiceHost(svc, { dedupWindow: 100 });
}
let n = 0;
function entry(h: ServiceHost<S>, op: string, args: Json, at: number, id = `r${++n}`): Entry {
  return { id, op, args, digest: 'd', seq: h.seq + 1, at };
}
function fire(h: ServiceHost<S>, id: string, at: number): void {
  h.apply({ ...timerCommand(id), seq: h.seq + 1, at });
}

describe('timers in the host', () => {
  it('schedules at ctx.now + delay, fires by entry, and a timer can schedule another', () => {
    const h = host();
    const r = h.apply(entry(h, 'later', { delay: 100, tag: 'again' }, 1000));
    expect(r.ok).toBe(true);
    const id = (r as { result: string }).result;
    expect(h.timers.get(id)).toMatchObject({ timer: 'ring', due: 1100, payload: { tag: 'again' } });
    fire(h, id, 1100);
    expect(h.state.fired).toEqual([['again', 1100]]);
    expect(h.timers.has(id)).toBe(false);
    const [next] = [...h.timers.values()];
    expect(next).toMatchObject({ due: 1105, payload: { tag: 'second' } });
  });

  it('a throwing handler schedules nothing; a cancelled timer does not fire', () => {
    const h = host();
    h.apply(entry(h, 'laterThenThrow', {}, 1000));
    expect(h.timers.size).toBe(0);
    const id = (h.apply(entry(h, 'later', { delay: 10, tag: 'x' }, 1000)) as { result: string }).result;
    expect((h.apply(entry(h, 'cancel', { id }, 1001)) as { result: boolean }).result).toBe(true);
    expect((h.apply(entry(h, 'cancel', { id }, 1002)) as { result: boolean }).result).toBe(false);
    fire(h, id, 1010);
    expect(h.state.fired).toEqual([]);
  });

  it('pending timers travel in a snapshot', () => {
    const a = host();
    a.apply(entry(a, 'later', { delay: 50, tag: 'snap' }, 2000));
    const cur = openSnapshot(a);
    const r = new SnapshotRestorer();
    for (let p = cur.next(); p; p = cur.next()) r.feed(p);
    const b = host();
    r.finish(b);
    expect([...b.timers.values()]).toEqual([...a.timers.values()]);
    const [t] = [...b.timers.keys()];
    fire(b, t as string, 2050);
    expect(b.state.fired).toEqual([['snap', 2050]]);
  });
});
