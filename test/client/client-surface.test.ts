// The typed client surface: `call` sends {id, op, args}, every failure is a ClientError with a
// code from one union, an AbortSignal gives up on one request, and `await using` closes.
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import * as zmq from 'zeromq';
import { Client, ClientError, isClientError, type ClientErrorCode, type ServerInfo } from '../../dist/index.js';
import { ServiceError, defineService } from '../../dist/index.js';

/** A ROUTER that records every request frame and answers what `answer` says (null: stays silent). */
class RawServer {
  readonly requests: Record<string, unknown>[] = [];
  answer: (req: Record<string, unknown>) => unknown = (req) => ({ id: req.id, ok: true, result: 'pong' });
  private readonly router = new zmq.Router({ linger: 0 });

  async start(): Promise<string> {
    await this.router.bind('tcp://127.0.0.1:*');
    void this.loop();
    return this.router.lastEndpoint as string;
  }

  private async loop(): Promise<void> {
    try {
      for await (const [peer, frame] of this.router) {
        const req = JSON.parse((frame as Buffer).toString()) as Record<string, unknown>;
        this.requests.push(req);
        const reply = this.answer(req);
        if (reply !== null) await this.router.send([peer as Buffer, JSON.stringify(reply)]);
      }
    } catch {
      // closed
    }
  }

  close(): void {
    this.router.close();
  }
}

let server: RawServer | null = null;
let client: Client | null = null;

afterEach(async () => {
  await client?.close();
  server?.close();
  client = null;
  server = null;
});

async function pair(opts: { deadlineMs?: number } = {}): Promise<{ s: RawServer; c: Client }> {
  server = new RawServer();
  const endpoint = await server.start();
  client = new Client({ endpoint, requestTimeoutMs: 200, deadlineMs: opts.deadlineMs ?? 2000 });
  return { s: server, c: client };
}

describe('Client surface', () => {
  it('call(op, args) sends {id, op, args} and resolves with the result', async () => {
    const { s, c } = await pair();
    s.answer = (req) => ({ id: req.id, ok: true, result: { balance: 5 } });
    const r = await c.call<{ balance: number }>('transfer', { from: 'a', to: 'b', amount: 5 });
    expect(r).toEqual({ balance: 5 });
    const sent = s.requests[0] as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual(['args', 'id', 'op']);
    expect(sent).toMatchObject({ op: 'transfer', args: { from: 'a', to: 'b', amount: 5 } });
    expect(typeof sent.id).toBe('string');
  });

  it('call of a built-in op is typed by the op', async () => {
    const { s, c } = await pair();
    s.answer = (req) => ({ id: req.id, ok: true, result: 'OK' });
    const r = c.call('set', { key: 'k', value: 'v' });
    expectTypeOf(r).toEqualTypeOf<Promise<'OK'>>();
    expectTypeOf(c.info()).toEqualTypeOf<Promise<ServerInfo>>();
    expect(await r).toBe('OK');
    expect(s.requests[0]).toMatchObject({ op: 'set', args: { key: 'k', value: 'v' } });
  });

  it('an error reply rejects with a ClientError carrying the server code and the request id', async () => {
    const { s, c } = await pair();
    for (const code of ['POISONED', 'ID_REUSED', 'SERVICE_ERROR', 'INSUFFICIENT_FUNDS']) {
      s.answer = (req) => ({ id: req.id, ok: false, error: { code, message: `said ${code}` } });
      const err = await c.call('transfer', {}, { id: `r-${code}` }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientError);
      expect(isClientError(err, code)).toBe(true);
      expect((err as ClientError).id).toBe(`r-${code}`);
    }
  });

  it('a request aborted by its signal rejects with ABORTED at once; the others go on', async () => {
    const { s, c } = await pair({ deadlineMs: 10_000 });
    s.answer = (req) => (req.op === 'slow' ? null : { id: req.id, ok: true, result: 'pong' });
    const ac = new AbortController();
    const slow = c.call('slow', null, { signal: ac.signal });
    const t0 = Date.now();
    setTimeout(() => ac.abort(new Error('caller gave up')), 50);
    const err = (await slow.catch((e: unknown) => e)) as ClientError;
    expect(err.code satisfies ClientErrorCode | string).toBe('ABORTED');
    expect(err.message).toMatch(/caller gave up/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(await c.ping()).toBe('pong');
  });

  it('an already aborted signal rejects without sending', async () => {
    const { s, c } = await pair();
    const err = (await c.get('k', { signal: AbortSignal.abort() }).catch((e: unknown) => e)) as ClientError;
    expect(err.code).toBe('ABORTED');
    expect(s.requests).toEqual([]);
  });

  it('no answer within the deadline is TIMEOUT; a closed client is CLOSED', async () => {
    const { s, c } = await pair({ deadlineMs: 300 });
    s.answer = () => null;
    expect(((await c.ping().catch((e: unknown) => e)) as ClientError).code).toBe('TIMEOUT');
    await c.close();
    expect(((await c.ping().catch((e: unknown) => e)) as ClientError).code).toBe('CLOSED');
  });

  it('await using closes the client at the end of the block', async () => {
    server = new RawServer();
    const endpoint = await server.start();
    let outside: Client;
    {
      await using c = new Client({ endpoint, requestTimeoutMs: 200, deadlineMs: 2000 });
      expect(await c.ping()).toBe('pong');
      outside = c;
    }
    expect(((await outside.ping().catch((e: unknown) => e)) as ClientError).code).toBe('CLOSED');
  });
});

describe('service author surface', () => {
  it('ServiceError carries a code that matches the contract, and refuses one that does not', () => {
    const e = new ServiceError('INSUFFICIENT_FUNDS', 'balance 3, need 5');
    expect(e.code).toBe('INSUFFICIENT_FUNDS');
    expect(e).toBeInstanceOf(Error);
    expect(() => new ServiceError('bad code', 'x')).toThrow(TypeError);
  });

  it('defineService types the state through init, commands and queries', () => {
    const svc = defineService({
      name: 'ledger',
      init: () => ({ accounts: {} as Record<string, number> }),
      commands: {
        open(state, { account, amount }: { account: string; amount: number }) {
          state.accounts[account] = amount;
          return amount;
        },
      },
      queries: {
        balance: (state, { account }: { account: string }) => state.accounts[account] ?? null,
      },
    });
    const state = svc.init();
    expectTypeOf(state).toEqualTypeOf<{ accounts: Record<string, number> }>();
    expect(svc.name).toBe('ledger');
  });
});
