// Hostile and malformed requests get docs/PROTOCOL.md's error codes; the server keeps serving.
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Instance } from '../helpers/instance.js';

let inst: Instance;
let dealer: zmq.Dealer;

beforeAll(async () => {
  inst = new Instance('wire');
  await inst.start();
  dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
  dealer.connect(inst.endpoint);
});

afterAll(async () => {
  dealer.close();
  const { leftovers } = await inst.stopAndCheck();
  await inst.destroy();
  expect(leftovers).toEqual([]);
});

async function roundTrip(frames: (Buffer | string)[]): Promise<{ id: string | null; ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
  await dealer.send(frames);
  const [reply] = await dealer.receive();
  return JSON.parse((reply as Buffer).toString('utf8'));
}

const json = (o: unknown) => JSON.stringify(o);

const CASES: Array<[string, (Buffer | string)[], string]> = [
  ['not JSON', ['{nope'], 'BAD_REQUEST'],
  ['non-UTF-8 bytes', [Buffer.from([0x7b, 0xff, 0xfe, 0x7d])], 'BAD_REQUEST'],
  ['a JSON array', ['[1,2]'], 'BAD_REQUEST'],
  ['a JSON string', ['"set"'], 'BAD_REQUEST'],
  ['an empty frame', [Buffer.alloc(0)], 'BAD_REQUEST'],
  ['no id', [json({ op: 'ping' })], 'BAD_REQUEST'],
  ['an id of 200 chars', [json({ id: 'x'.repeat(200), op: 'ping' })], 'BAD_REQUEST'],
  ['a numeric id', [json({ id: 7, op: 'ping' })], 'BAD_REQUEST'],
  ['an unknown op', [json({ id: 'u1', op: 'flushall' })], 'UNKNOWN_OP'],
  ['set without value', [json({ id: 'u2', op: 'set', key: 'k' })], 'BAD_REQUEST'],
  ['get with a numeric key', [json({ id: 'u3', op: 'get', key: 5 })], 'BAD_REQUEST'],
  ['a key over 1024 bytes', [json({ id: 'u4', op: 'get', key: 'k'.repeat(1025) })], 'TOO_LARGE'],
  ['incr by a fraction', [json({ id: 'u5', op: 'incr', key: 'n', by: 1.5 })], 'BAD_REQUEST'],
  ['a frame over 1 MiB', [json({ id: 'u6', op: 'set', key: 'k', value: 'v'.repeat(1024 * 1024) })], 'TOO_LARGE'],
  ['two frames', [json({ id: 'u7', op: 'ping' }), json({ id: 'u8', op: 'ping' })], 'BAD_REQUEST'],
];

describe('wire protocol errors', () => {
  for (const [what, frames, code] of CASES) {
    it(`${what} → ${code}, and the server still serves`, async () => {
      const r = await roundTrip(frames);
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe(code);
      expect(r.error?.message).toMatch(/\S/);
      const ping = await roundTrip([json({ id: `after-${what}`, op: 'ping' })]);
      expect(ping).toEqual({ id: `after-${what}`, ok: true, result: 'pong' });
    });
  }

  it('incr on a non-integer value → WRONG_TYPE and the value is unchanged', async () => {
    expect((await roundTrip([json({ id: 'w1', op: 'set', key: 's', value: 'abc' })])).ok).toBe(true);
    const r = await roundTrip([json({ id: 'w2', op: 'incr', key: 's' })]);
    expect(r.error?.code).toBe('WRONG_TYPE');
    expect((await roundTrip([json({ id: 'w3', op: 'get', key: 's' })])).result).toBe('abc');
  });

  it('incr past the safe integer range → WRONG_TYPE', async () => {
    await roundTrip([json({ id: 'm1', op: 'set', key: 'big', value: String(Number.MAX_SAFE_INTEGER) })]);
    const r = await roundTrip([json({ id: 'm2', op: 'incr', key: 'big' })]);
    expect(r.error?.code).toBe('WRONG_TYPE');
  });

  it('a REQ client gets its reply after the empty delimiter', async () => {
    const req = new zmq.Request({ linger: 0, receiveTimeout: 5000 });
    req.connect(inst.endpoint);
    await req.send(json({ id: 'r1', op: 'incr', key: 'reqctr', by: 5 }));
    const [reply] = await req.receive();
    req.close();
    expect(JSON.parse((reply as Buffer).toString())).toEqual({ id: 'r1', ok: true, result: 5 });
  });

  it('the same id twice executes once (dedup)', async () => {
    const a = await roundTrip([json({ id: 'dup-1', op: 'incr', key: 'dupctr' })]);
    const b = await roundTrip([json({ id: 'dup-1', op: 'incr', key: 'dupctr' })]);
    expect(a).toEqual({ id: 'dup-1', ok: true, result: 1 });
    expect(b).toEqual(a);
    expect((await roundTrip([json({ id: 'dup-2', op: 'get', key: 'dupctr' })])).result).toBe('1');
  });

  it('the key-value ops take their arguments in args too, and both spellings are one request', async () => {
    expect(await roundTrip([json({ id: 'a1', op: 'set', args: { key: 'viaargs', value: 'x' } })])).toEqual({ id: 'a1', ok: true, result: 'OK' });
    expect((await roundTrip([json({ id: 'a2', op: 'get', args: { key: 'viaargs' } })])).result).toBe('x');
    expect(await roundTrip([json({ id: 'a3', op: 'incr', key: 'argsctr' })])).toEqual({ id: 'a3', ok: true, result: 1 });
    // A retry spelled the other way is the same request: its first answer, applied once.
    expect(await roundTrip([json({ id: 'a3', op: 'incr', args: { key: 'argsctr', by: 1 } })])).toEqual({ id: 'a3', ok: true, result: 1 });
    expect((await roundTrip([json({ id: 'a4', op: 'set', args: ['k', 'v'] })])).error?.code).toBe('BAD_REQUEST');
    expect((await roundTrip([json({ id: 'a5', op: 'set', args: { key: 'k' } })])).error?.code).toBe('BAD_REQUEST');
  });

  it('an id reused for a different request → ID_REUSED, nothing applied', async () => {
    expect((await roundTrip([json({ id: 'ru', op: 'set', key: 'ru1', value: 'a' })])).ok).toBe(true);
    expect((await roundTrip([json({ id: 'ru', op: 'set', key: 'ru1', value: 'b' })])).error?.code).toBe('ID_REUSED');
    expect((await roundTrip([json({ id: 'ru2', op: 'get', key: 'ru1' })])).result).toBe('a');
  });

  it('info reports role, epoch, commitSeq, keys, standby and the service', async () => {
    const r = await roundTrip([json({ id: 'i1', op: 'info' })]);
    expect(r.result).toMatchObject({ role: 'primary', epoch: 1, standby: 'in-sync', service: { name: 'kv', commands: ['set', 'del', 'incr'], queries: ['get'], timers: [] } });
    expect(typeof (r.result as { commitSeq: number }).commitSeq).toBe('number');
    expect(typeof (r.result as { keys: number }).keys).toBe('number');
  });
});
