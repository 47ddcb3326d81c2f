// Request ids cannot poison the dedup window: a reused id is refused, and a window full of
// long hostile ids still streams to a new standby through the smallest ring.
import * as zmq from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { Instance, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let dealer: zmq.Dealer | null = null;

afterEach(async () => {
  dealer?.close();
  dealer = null;
  await teardown(inst, null);
  inst = null;
});

type Reply = { id: string | null; ok: boolean; result?: unknown; error?: { code: string } };

function connect(endpoint: string): zmq.Dealer {
  const d = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000 });
  d.connect(endpoint);
  return d;
}

/** Sends every request, then reads every reply (the server answers in any order). */
async function pipelined(d: zmq.Dealer, reqs: object[]): Promise<Map<string, Reply>> {
  for (const r of reqs) await d.send(JSON.stringify(r));
  const replies = new Map<string, Reply>();
  while (replies.size < reqs.length) {
    const [frame] = await d.receive();
    const r = JSON.parse((frame as Buffer).toString('utf8')) as Reply;
    replies.set(r.id as string, r);
  }
  return replies;
}

describe('dedup window', () => {
  it('an id reused for another request is answered ID_REUSED, and nothing is applied', async () => {
    inst = new Instance('id-reused');
    await inst.start();
    const cli = (args: string[]) => inst!.cli(['client', '--endpoint', inst!.endpoint, '--json', ...args]);
    const first = await cli(['--id', 's', 'incr', 'c']);
    expect(JSON.parse(first.stdout)).toEqual({ id: 's', ok: true, result: 1 });
    // A retry of the same request gets its first answer.
    expect(JSON.parse((await cli(['--id', 's', 'incr', 'c'])).stdout)).toEqual({ id: 's', ok: true, result: 1 });
    const reused = await cli(['--id', 's', 'set', 'other', 'v']);
    expect(reused.exitCode).toBe(1);
    expect(JSON.parse(reused.stdout)).toMatchObject({ id: 's', ok: false, error: { code: 'ID_REUSED' } });
    expect(JSON.parse((await cli(['get', 'other'])).stdout)).toMatchObject({ ok: true, result: null });
    expect(JSON.parse((await cli(['get', 'c'])).stdout)).toMatchObject({ ok: true, result: '1' });
  });

  it('2 100 writes with 120-character control-character ids: a new standby still syncs through a 4 MiB ring', async () => {
    inst = new Instance('hostile-ids', { extraArgs: ['--ring-bytes', String(4 * 1024 * 1024)] });
    await inst.start();
    dealer = connect(inst.endpoint);
    // Every character escapes to six in JSON: ~1.5 KB of dedup window per write, 3 MB in all.
    const ctl = (i: number) => `${'\u0001\u0002\u0003\u001f'.repeat(28)}${String(i).padStart(8, '\u0007')}`;
    const reqs = Array.from({ length: 2100 }, (_, i) => ({ id: ctl(i), op: 'incr', key: 'n' }));
    for (let i = 0; i < reqs.length; i += 300) {
      const replies = await pipelined(dealer, reqs.slice(i, i + 300));
      for (const r of replies.values()) expect(r.ok, JSON.stringify(r.error)).toBe(true);
    }
    expect(reqs[0]?.id).toHaveLength(120);
    const old = inst.currentPid('secondary');
    const mark = inst.events.length;
    process.kill(old, 'SIGKILL');
    await inst.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000, mark);
    // The new standby has the whole window: after a failover a retry still gets its first answer.
    const promoted = inst.events.length;
    process.kill(inst.currentPid('primary'), 'SIGKILL');
    await inst.waitEvent((e) => e.event === 'promoted', 10_000, promoted);
    const again = await waitFor('retry answered', async () => {
      const d = connect(inst!.endpoint);
      try {
        const r = await pipelined(d, [reqs[5] as object]);
        return r.get(ctl(5));
      } catch {
        return undefined;
      } finally {
        d.close();
      }
    }, 15_000, 200);
    expect(again).toMatchObject({ ok: true, result: 6 });
  });
});
