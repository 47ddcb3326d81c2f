import { describe, expect, it } from 'vitest';
import { DedupWindow } from '../../dist/host/dedup.js';
import { ServiceHost } from '../../dist/host/host.js';
import { openSnapshot, SnapshotRestorer } from '../../dist/host/snapshot.js';
import { ServiceError, type ServiceDefinition } from '../../dist/host/service.js';
import type { Json } from '../../dist/protocol/wire.js';

/** A service that is not a key-value store: a ledger in parts of raw bytes and JSON. */
interface Ledger {
  balances: Record<string, number>;
  log: number[];
}
const ledger: ServiceDefinition<Ledger> = {
  name: 'ledger',
  init: () => ({ balances: {}, log: [] }),
  commands: {
    open(s, args) {
      const { account, amount } = args as { account: string; amount: number };
      if (account in s.balances) throw new ServiceError('EXISTS', `account ${account} exists`);
      s.balances[account] = amount;
      return amount;
    },
    stamp(s, _args, ctx) {
      s.log.push(ctx.now, Math.floor(ctx.random() * 1000));
      return s.log.length;
    },
    crash() {
      throw new TypeError('oops');
    },
    later() {
      return Promise.resolve(1) as unknown as Json;
    },
  },
  queries: { balance: (s, args) => s.balances[(args as { account: string }).account] ?? null },
  *snapshot(s) {
    yield { balances: s.balances };
    yield new Uint8Array(new Float64Array(s.log).buffer);
  },
  restore(parts) {
    const it = parts as IterableIterator<Json | Uint8Array>;
    const first = it.next().value as { balances: Record<string, number> };
    const bytes = it.next().value as Uint8Array;
    const log = [...new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))];
    return { balances: first.balances, log };
  },
};

let seq = 0;
const entry = (h: ServiceHost<Ledger>, id: string, op: string, args: Json, digest = `${op}:${JSON.stringify(args)}`) => ({ id, op, args, digest, seq: h.seq + 1, at: 5000 + ++seq });

function copy(h: ServiceHost<Ledger>): ServiceHost<Ledger> {
  const c = new ServiceHost(ledger, { dedupWindow: 10 });
  const r = new SnapshotRestorer();
  const cur = openSnapshot(h);
  for (let p = cur.next(); p; p = cur.next()) r.feed(p);
  r.finish(c);
  return c;
}

describe('service host', () => {
  it('runs any service: replies, service errors, SERVICE_ERROR, and the same ctx on every copy', () => {
    const a = new ServiceHost(ledger, { dedupWindow: 10 });
    const b = new ServiceHost(ledger, { dedupWindow: 10 });
    const entries = [entry(a, 'o1', 'open', { account: 'x', amount: 5 })];
    entries.push({ ...entry(a, 'o2', 'open', { account: 'x', amount: 7 }), seq: 2 });
    entries.push({ ...entry(a, 's1', 'stamp', null), seq: 3 });
    entries.push({ ...entry(a, 'c1', 'crash', null), seq: 4 });
    entries.push({ ...entry(a, 'l1', 'later', null), seq: 5 });
    const ra = entries.map((e) => a.apply(e));
    const rb = entries.map((e) => b.apply(e));
    expect(ra).toEqual(rb);
    expect(a.state).toEqual(b.state);
    expect(ra[0]).toEqual({ id: 'o1', ok: true, result: 5 });
    expect(ra[1]).toMatchObject({ ok: false, error: { code: 'EXISTS' } });
    expect(ra[3]).toMatchObject({ ok: false, error: { code: 'SERVICE_ERROR' } });
    expect(ra[4]).toMatchObject({ ok: false, error: { code: 'SERVICE_ERROR' } });
    expect(a.keys()).toBeNull();
    expect(a.query('balance', { account: 'x' }, 'q')).toEqual({ id: 'q', ok: true, result: 5 });
    expect(a.describe()).toEqual({ name: 'ledger', commands: ['open', 'stamp', 'crash', 'later'], queries: ['balance'], timers: [] });
  });

  it('a snapshot in JSON and byte parts restores the same state and dedup window', () => {
    const h = new ServiceHost(ledger, { dedupWindow: 10 });
    h.apply(entry(h, 'o1', 'open', { account: 'x', amount: 5 }));
    h.apply(entry(h, 's1', 'stamp', null));
    const c = copy(h);
    expect(c.state).toEqual(h.state);
    expect(c.seq).toBe(2);
    expect([...c.dedup.entries()]).toEqual([...h.dedup.entries()]);
  });

  it('commands are held while a snapshot is open, and released when it ends or closes', () => {
    const h = new ServiceHost(ledger, { dedupWindow: 10 });
    let released = 0;
    h.onRelease(() => released++);
    const cur = openSnapshot(h);
    expect(h.held).toBe(true);
    expect(() => h.apply(entry(h, 'o1', 'open', { account: 'x', amount: 1 }))).toThrow(/snapshot/);
    while (cur.next());
    expect(h.held).toBe(false);
    openSnapshot(h).close();
    expect(released).toBe(2);
    h.apply(entry(h, 'o1', 'open', { account: 'x', amount: 1 }));
  });

  it('an id is answered only for the same content', () => {
    const h = new ServiceHost(ledger, { dedupWindow: 10 });
    h.apply(entry(h, 'id', 'open', { account: 'x', amount: 1 }, 'd1'));
    expect(h.lookup('id', 'd1')).toEqual({ reply: { id: 'id', ok: true, result: 1 } });
    expect(h.lookup('id', 'd2')).toEqual({ reused: true });
    expect(h.lookup('other', 'd1')).toBeNull();
  });

  it('refuses a definition that redefines ping or names an op badly', () => {
    expect(() => new ServiceHost({ init: () => 0, commands: { ping: () => 1 } }, { dedupWindow: 1 })).toThrow(/osps itself/);
    expect(() => new ServiceHost({ init: () => 0, commands: { 'bad op': () => 1 } }, { dedupWindow: 1 })).toThrow(/does not match/);
    expect(() => new ServiceHost({ init: () => 0, commands: { a: () => 1 }, queries: { a: () => 1 } }, { dedupWindow: 1 })).toThrow(/both/);
  });
});

describe('dedup window', () => {
  it('keeps exactly the last N ids, oldest first, across many wraps', () => {
    const d = new DedupWindow(5);
    const r = (id: string) => ({ id, ok: true as const, result: id });
    const ids = () => [...d.entries()].map(([id]) => id);
    for (let i = 0; i < 23; i++) d.record(`r${i}`, 'x', r(`r${i}`));
    expect(ids()).toEqual(['r18', 'r19', 'r20', 'r21', 'r22']);
    // A repeated id (an older journal's replayed reply) keeps its place and evicts nothing.
    d.record('r19', 'x', r('again'));
    expect(ids()).toEqual(['r18', 'r19', 'r20', 'r21', 'r22']);
    expect(d.get('r19')?.reply.result).toBe('again');
    d.record('r23', 'x', r('r23'));
    expect(d.has('r18')).toBe(false);
    expect(ids()).toEqual(['r19', 'r20', 'r21', 'r22', 'r23']);
    d.clear();
    d.record('a', 'x', r('a'));
    d.record('b', 'x', r('b'));
    for (let i = 0; i < 4; i++) d.record(`n${i}`, 'x', r(`n${i}`));
    expect(ids()).toEqual(['b', 'n0', 'n1', 'n2', 'n3']);
  });
});
