// The RESP request parser: any byte stream, cut anywhere, yields requests within the
// bounds or one protocol error for good; it never throws or hangs, and valid streams
// come back request for request however they are cut.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { CommandTable } from '../../dist/resp/commands.js';
import type { RespParserLimits } from '../../dist/resp/limits.js';
import { RespParser } from '../../dist/resp/parser.js';
import { FakeBackend } from '../resp/fake-backend.js';
import { budget, fuzz, mutated, randomBytes } from './harness.js';

function chunksOf(stream: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(stream.subarray(prev, c));
    prev = c;
  }
  out.push(stream.subarray(prev));
  return out;
}

/** Pushes every chunk and pulls after each, checking the parser's contract; returns the requests and the error. */
function parseChecked(limits: Partial<RespParserLimits>, chunks: Buffer[]): { reqs: Buffer[][]; error: string | null } {
  const p = new RespParser(limits);
  const l = p.limits;
  const reqs: Buffer[][] = [];
  for (const c of chunks) {
    const before = p.error;
    p.push(c);
    for (let r = p.next(); r !== null; r = p.next()) {
      assert.equal(p.error, null);
      assert.ok(r.length >= 1 && r.length <= l.maxArrayElements);
      for (const a of r) assert.ok(a.length <= Math.max(l.maxBulkBytes, l.maxInlineBytes));
      reqs.push(r.map((a) => Buffer.from(a)));
    }
    if (before !== null) assert.equal(p.error, before); // once failed, the same error for good
    if (p.error !== null) {
      assert.match(p.error, /^Protocol error: /);
      assert.equal(p.bufferedBytes, 0);
    } else {
      // Only the start of one request is held after a pull.
      assert.ok(p.bufferedBytes <= l.maxRequestBytes + l.maxInlineBytes + 2, `holds ${p.bufferedBytes} bytes`);
    }
  }
  return { reqs, error: p.error };
}

function encode(args: Uint8Array[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), Buffer.from(a), Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

const limits: fc.Arbitrary<Partial<RespParserLimits>> = fc.oneof(
  fc.constant({}),
  fc.record({
    maxBulkBytes: fc.nat(64),
    maxArrayElements: fc.nat(8),
    maxInlineBytes: fc.nat(64),
    maxRequestBytes: fc.nat(512),
  }),
);
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const requests = fc.array(fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 5 }), { maxLength: 5 });
const inlineLine = fc
  .tuple(fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('"', "'", '\\', '\\x4', ' ', '\t', '"a b"', "'it\\'s'")), { maxLength: 8 }), fc.boolean())
  .map(([ws, crlf]) => Buffer.from(`${ws.join('')}${crlf ? '\r\n' : '\n'}`));
const validStream = fc
  .array(fc.oneof(requests.map((rs) => Buffer.concat(rs.map(encode))), inlineLine), { maxLength: 4 })
  .map((parts) => Buffer.concat(parts));

describe('RespParser under fuzzing', () => {
  it('yields bounded requests or one protocol error for random byte streams', () => {
    const stream = randomBytes([0x2a, 0x24, 0x0d, 0x0a, 0x22], 256);
    fuzz('RespParser', fc.tuple(limits, stream, cuts), budget(1000, 100_000), ([l, s, c]) => void parseChecked(l, chunksOf(s, c)));
  });

  it('yields bounded requests or one protocol error for damaged valid streams', () => {
    fuzz('RespParser', fc.tuple(limits, mutated(validStream), cuts), budget(1000, 100_000), ([l, s, c]) => void parseChecked(l, chunksOf(s, c)));
  });

  it('round-trips valid requests however they are cut', () => {
    fuzz('RespParser', fc.tuple(requests, cuts), budget(500, 50_000), ([rs, c]) => {
      const { reqs, error } = parseChecked({}, chunksOf(Buffer.concat(rs.map(encode)), c));
      assert.equal(error, null);
      assert.deepStrictEqual(reqs, rs.map((r) => r.map((a) => Buffer.from(a))));
    });
  });

  it('answers any argument vector with one well-formed reply, synchronously or by a promise that resolves', async () => {
    const table = new CommandTable(new FakeBackend({ queries: { 'svc.q': (a) => a } }));
    const ctx = table.context({ id: 1, name: null, closeAfterReply: false });
    const names = ['GET', 'set', 'DEL', 'exists', 'INCR', 'incrby', 'MGET', 'PING', 'ECHO', 'INFO', 'HELLO', 'CLIENT', 'SELECT', 'COMMAND', 'CONFIG', 'OSPS.CALL', 'svc.q', 'QUIT', 'nope'];
    const arg = fc.oneof(fc.constantFrom('k', '', '0', '-1', '2', '9007199254740993', 'EX', 'GET', 'SETNAME', 'DOCS', '{"a":1}', 'null', 'svc.q', 'info'), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u).toString('latin1')));
    const vector = fc.tuple(fc.constantFrom(...names), fc.array(arg, { maxLength: 5 })).map(([n, as]) => [n, ...as].map((a) => Buffer.from(a, 'latin1')));
    const pending: Promise<void>[] = [];
    fuzz('RespCommandTable', vector, budget(1000, 50_000), (args) => {
      const out = table.run(args, ctx);
      const check = (b: Buffer): void => {
        assert.ok(Buffer.isBuffer(b) && b.length >= 3);
        assert.ok('+-:$*'.includes(String.fromCharCode(b[0] as number)));
        assert.equal(b.subarray(-2).toString(), '\r\n');
      };
      if (out instanceof Promise) pending.push(out.then(check));
      else check(out);
    });
    await Promise.all(pending);
  });
});
