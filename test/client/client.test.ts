import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { Client } from '../../dist/client/client.js';
import { percentile, summarize } from '../../dist/client/percentiles.js';
import { OspsError } from '../../dist/errors.js';
import { DEFAULTS } from '../../dist/config.js';
import { errorReply, parseRequest, type Reply, type Request } from '../../dist/protocol/wire.js';

/** What the fake server does with one copy of a request: answer it, answer it late, or drop it (null). */
type Behaviour = (req: Request, copy: number) => Reply | { reply: Reply; delayMs: number } | null;

/** A tiny in-test ROUTER that speaks docs/PROTOCOL.md over an in-memory map. */
class FakeServer {
  readonly seen: string[] = [];
  /** Replies handed to zeromq. */
  sent = 0;
  readonly store = new Map<string, string>();
  behaviour: Behaviour = (req) => this.answer(req);
  /** Max random delay before answering, to make replies come back out of order. */
  jitterMs = 0;
  private readonly router = new zmq.Router({ linger: 0 });
  private outbox: Promise<void> = Promise.resolve();

  async start(endpoint = 'tcp://127.0.0.1:*'): Promise<string> {
    // A restarted server rebinds the old port, which the old socket may still hold a moment.
    await waitForAsync(async () => {
      try {
        await this.router.bind(endpoint);
        return true;
      } catch {
        return false;
      }
    });
    void this.loop();
    return this.router.lastEndpoint as string;
  }

  copies(id: string): number {
    return this.seen.filter((s) => s === id).length;
  }

  answer(req: Request): Reply {
    const ok = (result: string | number | null | Record<string, string | number>): Reply => ({ id: req.id, ok: true, result });
    const key = req.key as string;
    switch (req.op) {
      case 'ping': return ok('pong');
      case 'get': return ok(this.store.get(key) ?? null);
      case 'set': this.store.set(key, req.value as string); return ok('OK');
      case 'del': return ok(this.store.delete(key) ? 1 : 0);
      case 'info': return ok({ role: 'primary', epoch: 1, commitSeq: 0, keys: this.store.size, standby: 'absent' });
      case 'incr': {
        const cur = this.store.get(key) ?? '0';
        if (!/^-?\d+$/.test(cur)) return errorReply(req.id, 'WRONG_TYPE', `value of '${key}' is not a decimal integer`);
        const n = Number(cur) + (req.by ?? 1);
        this.store.set(key, String(n));
        return ok(n);
      }
    }
  }

  private async loop(): Promise<void> {
    try {
      for await (const [identity, frame] of this.router) {
        const parsed = parseRequest(frame as Buffer, DEFAULTS.maxFrameBytes);
        if (!parsed.ok) {
          this.reply(identity as Buffer, parsed.reply);
          continue;
        }
        this.seen.push(parsed.req.id);
        const out = this.behaviour(parsed.req, this.copies(parsed.req.id));
        if (out === null) continue;
        const [reply, delayMs] = 'reply' in out ? [out.reply, out.delayMs] : [out, Math.random() * this.jitterMs];
        if (delayMs > 0) setTimeout(() => this.reply(identity as Buffer, reply), delayMs);
        else this.reply(identity as Buffer, reply);
      }
    } catch {
      // closed
    }
  }

  // One send in flight per zeromq socket: chain them.
  private reply(identity: Buffer, reply: Reply): void {
    this.outbox = this.outbox
      .then(() => this.router.send([identity, JSON.stringify(reply)]))
      .then(() => void this.sent++, () => {});
  }

  close(): void {
    this.router.close();
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  return waitForAsync(async () => cond(), timeoutMs);
}

async function waitForAsync(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(opts: { requestTimeoutMs?: number; deadlineMs?: number } = {}): Promise<{ server: FakeServer; client: Client }> {
  const server = new FakeServer();
  const endpoint = await server.start();
  cleanup.push(() => server.close());
  const client = new Client({ endpoint, ...opts });
  cleanup.push(() => client.close());
  return { server, client };
}

describe('Client', () => {
  it('speaks every op', async () => {
    const { client } = await setup();
    expect(await client.ping()).toBe('pong');
    expect(await client.get('k')).toBeNull();
    expect(await client.set('k', 'v')).toBe('OK');
    expect(await client.get('k')).toBe('v');
    expect(await client.del('k')).toBe(1);
    expect(await client.del('k')).toBe(0);
    expect(await client.incr('n')).toBe(1);
    expect(await client.incr('n', -5)).toBe(-4);
    expect((await client.info()).role).toBe('primary');
    await client.set('s', 'text');
    await expect(client.incr('s')).rejects.toMatchObject({ code: 'WRONG_TYPE' });
    // request() resolves an error reply instead of throwing it.
    const reply = await client.request({ op: 'incr', key: 's', id: 'my-id' });
    expect(reply).toMatchObject({ id: 'my-id', ok: false, error: { code: 'WRONG_TYPE' } });
  });

  it('retries a dropped request with the same id', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 100, deadlineMs: 3000 });
    server.behaviour = (req, copy) => (copy === 1 ? null : server.answer(req));
    const reply = await client.request({ op: 'set', key: 'k', value: 'v' });
    expect(reply.ok).toBe(true);
    expect(server.seen).toEqual([reply.id, reply.id]);
  });

  it('ignores the late answer to an attempt that a retry already answered', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 100, deadlineMs: 3000 });
    server.behaviour = (req, copy) => (copy === 1 ? { reply: { id: req.id, ok: true, result: 'late' }, delayMs: 300 } : server.answer(req));
    expect(await client.request({ op: 'ping', id: 'p1' })).toEqual({ id: 'p1', ok: true, result: 'pong' });
    await waitFor(() => server.sent === 2);
    server.behaviour = (req) => server.answer(req);
    expect(await client.ping()).toBe('pong');
  });

  it('carries a request across a server restart on the same endpoint (failover)', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 200, deadlineMs: 5000 });
    server.behaviour = () => null;
    const pending = client.request({ op: 'set', key: 'k', value: 'v', id: 'f1' });
    await waitFor(() => server.copies('f1') === 1);
    server.close();
    const successor = new FakeServer();
    cleanup.push(() => successor.close());
    await successor.start(client.endpoint);
    expect(await pending).toEqual({ id: 'f1', ok: true, result: 'OK' });
    expect(successor.seen[0]).toBe('f1');
  });

  it('retries an UNAVAILABLE reply with the same id', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 1000, deadlineMs: 5000 });
    server.behaviour = (req, copy) => (copy === 1 ? errorReply(req.id, 'UNAVAILABLE', 'replication stalled') : server.answer(req));
    const reply = await client.request({ op: 'incr', key: 'n', id: 'u1' });
    expect(reply).toEqual({ id: 'u1', ok: true, result: 1 });
    expect(server.copies('u1')).toBe(2);
  });

  it('rejects with TIMEOUT at the deadline, having resent the same id', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 100, deadlineMs: 600 });
    server.behaviour = () => null;
    const t0 = Date.now();
    const err = await client.request({ op: 'set', key: 'k', value: 'v', id: 't1' }).catch((e: unknown) => e);
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(OspsError);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect((err as Error).message).toMatch(/within 600 ms \(set, t1\)/);
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(2000);
    expect(server.copies('t1')).toBeGreaterThanOrEqual(4);
    expect(new Set(server.seen)).toEqual(new Set(['t1']));
  });

  it('reports a deadline spent on UNAVAILABLE replies as TIMEOUT with the last message', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 100, deadlineMs: 400 });
    server.behaviour = (req) => errorReply(req.id, 'UNAVAILABLE', 'replication stalled');
    await expect(client.set('k', 'v')).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/UNAVAILABLE.*replication stalled/) });
  });

  it('pipelines 1000 concurrent requests, each answered by its own id', async () => {
    const { server, client } = await setup();
    server.jitterMs = 5;
    const ids = Array.from({ length: 1000 }, (_, i) => `req-${i}`);
    const replies = await Promise.all(ids.map((id, i) => client.request({ op: 'set', key: `k${i}`, value: String(i), id })));
    expect(replies.map((r) => r.id)).toEqual(ids);
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(server.store.get('k999')).toBe('999');
    expect(server.seen.length).toBe(1000);
  });

  it('close() rejects pending requests with CLOSED and is idempotent', async () => {
    const { server, client } = await setup();
    server.behaviour = () => null;
    const pending = client.request({ op: 'get', key: 'k', id: 'c1' });
    await waitFor(() => server.copies('c1') === 1);
    await Promise.all([client.close(), client.close()]);
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(client.ping()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses an oversized request locally', async () => {
    const server = new FakeServer();
    const endpoint = await server.start();
    cleanup.push(() => server.close());
    const client = new Client({ endpoint, maxFrameBytes: 100 });
    cleanup.push(() => client.close());
    await expect(client.set('k', 'x'.repeat(200))).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(server.seen).toEqual([]);
  });
});

describe('percentiles', () => {
  it('uses nearest rank on unsorted input without modifying it', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile(xs, 50)).toBe(3);
    expect(percentile(xs, 100)).toBe(5);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    const hundred = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 99.9)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(xs, 101)).toThrow(RangeError);
  });

  it('summarizes', () => {
    expect(summarize([2, 4, 6, 8])).toEqual({ count: 4, min: 2, mean: 5, p50: 4, p90: 8, p99: 8, p999: 8, max: 8 });
    expect(summarize([]).count).toBe(0);
  });
});
