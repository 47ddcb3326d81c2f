// The module of docs/write-your-own-service.md, kept in examples/counters.mjs, does what the
// page says: counters add up, and a reset timer clears one.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceHost } from '../../dist/host/host.js';
import { loadService } from '../../dist/host/load.js';
import { timerCommand } from '../../dist/host/timers.js';
import type { Json } from '../../dist/protocol/wire.js';
import { ROOT } from '../helpers/instance.js';

describe('examples/counters.mjs', () => {
  it('adds, schedules a reset, and the reset fires', async () => {
    const def = await loadService(path.join(ROOT, 'examples', 'counters.mjs'));
    const h = new ServiceHost(def, { dedupWindow: 10 });
    let n = 0;
    const run = (op: string, args: Json) => h.apply({ id: `r${++n}`, op, args, digest: 'd', seq: h.seq + 1, at: 1000 });
    expect(run('add', { name: 'hits', by: 5 })).toMatchObject({ ok: true, result: 5 });
    const id = (run('expireIn', { name: 'hits', ms: 100 }) as { result: string }).result;
    expect(h.query('get', { name: 'hits' }, 'q')).toMatchObject({ result: 5 });
    h.apply({ ...timerCommand(id), seq: h.seq + 1, at: 1100 });
    expect(h.query('get', { name: 'hits' }, 'q')).toMatchObject({ result: 0 });
    expect(run('expireIn', { name: 'hits', ms: 1 })).toMatchObject({ ok: false, error: { code: 'NO_COUNTER' } });
  });
});
