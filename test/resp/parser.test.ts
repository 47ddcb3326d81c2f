// The RESP request parser: every byte boundary, pipelining, inline commands, every bound.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES } from '../../dist/protocol/limits.js';
import { RespParser } from '../../dist/resp/parser.js';

function req(...args: (string | Buffer)[]): Buffer {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Pushes the chunks, pulling after each; returns the commands as strings and the error. */
function parse(chunks: Buffer[], limits = {}): { cmds: string[][]; error: string | null } {
  const p = new RespParser(limits);
  const cmds: string[][] = [];
  for (const c of chunks) {
    p.push(c);
    for (let a = p.next(); a !== null; a = p.next()) cmds.push(a.map((b) => b.toString('latin1')));
  }
  return { cmds, error: p.error };
}

describe('RespParser', () => {
  const stream = Buffer.concat([req('SET', 'k', 'v\r\nx'), req('GET', 'k'), Buffer.from('PING\r\n'), req('ECHO', ''), Buffer.from('inline "a b" c\n')]);
  const want = [['SET', 'k', 'v\r\nx'], ['GET', 'k'], ['PING'], ['ECHO', ''], ['inline', 'a b', 'c']];

  it('parses a pipelined stream in one chunk', () => {
    expect(parse([stream])).toEqual({ cmds: want, error: null });
  });

  it('parses the same stream split at every byte boundary, and byte by byte', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(parse([stream.subarray(0, i), stream.subarray(i)])).toEqual({ cmds: want, error: null });
    }
    expect(parse([...stream].map((b) => Buffer.from([b])))).toEqual({ cmds: want, error: null });
  });

  it('returns nothing until a request is complete, and keeps the rest', () => {
    const p = new RespParser();
    p.push(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r'));
    expect(p.next()).toBeNull();
    expect(p.bufferedBytes).toBe(16);
    p.push(Buffer.from('\nk\r\n*1\r\n'));
    expect(p.next()?.map(String)).toEqual(['GET', 'k']);
    expect(p.lastRequestBytes).toBe(20);
    expect(p.next()).toBeNull();
    expect(p.bufferedBytes).toBe(4);
  });

  it('runs nothing for *0, *-1 and blank lines', () => {
    expect(parse([Buffer.from('*0\r\n*-1\r\n\r\n   \n'), req('PING')])).toEqual({ cmds: [['PING']], error: null });
  });

  it('splits inline commands as redis-server does', () => {
    const line = Buffer.from(`set "a\\x41\\n\\"" 'it\\'s' x"y z"\r\n`);
    expect(parse([line]).cmds).toEqual([['set', 'aA\n"', "it's", 'xy z']]);
    expect(parse([Buffer.from('get "k\r\n')]).error).toBe('Protocol error: unbalanced quotes in request');
    expect(parse([Buffer.from('get "k"x\r\n')]).error).toBe('Protocol error: unbalanced quotes in request');
  });

  it('words malformed requests as redis-server does, and stays failed', () => {
    const cases: [string, string][] = [
      ['*x\r\n', 'Protocol error: invalid multibulk length'],
      ['*01\r\n', 'Protocol error: invalid multibulk length'],
      ['*1\r\n+PING\r\n', "Protocol error: expected '$', got '+'"],
      ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
      ['*1\r\n$x\r\n', 'Protocol error: invalid bulk length'],
      ['*1\r\n$4\r\nPINGxx', "Protocol error: expected '\\r\\n' after a bulk string"],
      ['*1\rx', "Protocol error: expected '\\n' after '\\r'"],
    ];
    for (const [input, error] of cases) {
      const p = new RespParser();
      p.push(Buffer.from(input));
      expect(p.next()).toBeNull();
      expect(p.error).toBe(error);
      p.push(req('PING'));
      expect(p.next()).toBeNull();
      expect(p.bufferedBytes).toBe(0);
    }
  });

  it('bounds a bulk string: the client frame limit by default, configurable', () => {
    const ok = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 0x61);
    expect(parse([req('SET', 'k', ok)]).cmds[0]?.[2]?.length).toBe(DEFAULT_MAX_FRAME_BYTES);
    // Refused from the header alone, before the bytes arrive.
    expect(parse([Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${DEFAULT_MAX_FRAME_BYTES + 1}\r\n`)]).error).toBe('Protocol error: invalid bulk length');
    expect(parse([req('SET', 'k', 'abcdef')], { maxBulkBytes: 5 }).error).toBe('Protocol error: invalid bulk length');
  });

  it('bounds the elements of one request', () => {
    expect(parse([req('a', 'b', 'c')], { maxArrayElements: 3 }).error).toBeNull();
    expect(parse([req('a', 'b', 'c', 'd')], { maxArrayElements: 3 }).error).toBe('Protocol error: invalid multibulk length');
    expect(parse([Buffer.from('a b c d\r\n')], { maxArrayElements: 3 }).error).toBe('Protocol error: invalid multibulk length');
  });

  it('bounds an inline line and the header lines', () => {
    expect(parse([Buffer.from(`${'x'.repeat(100)}\r\n`)], { maxInlineBytes: 100 }).cmds).toHaveLength(1);
    // No newline yet, but already over the bound: refused without waiting for the rest.
    expect(parse([Buffer.from(`${'x'.repeat(100)}\r`)], { maxInlineBytes: 100 }).error).toBeNull();
    expect(parse([Buffer.from('x'.repeat(102))], { maxInlineBytes: 100 }).error).toBe('Protocol error: too big inline request');
    expect(parse([Buffer.from(`*${'1'.repeat(101)}`)], { maxInlineBytes: 100 }).error).toBe('Protocol error: too big mbulk count string');
    expect(parse([Buffer.from(`*1\r\n$${'1'.repeat(101)}`)], { maxInlineBytes: 100 }).error).toBe('Protocol error: too big bulk count string');
    // The default is redis-server's 64 KiB.
    expect(parse([Buffer.alloc(64 * 1024 + 2, 0x78)]).error).toBe('Protocol error: too big inline request');
  });

  it('bounds the bytes of one request (wire bytes plus a cost per argument)', () => {
    const limits = { maxRequestBytes: 1000 };
    expect(parse([req('SET', 'k', 'v'.repeat(700))], limits).error).toBeNull();
    expect(parse([req('SET', 'k', 'v'.repeat(1000))], limits).error).toBe('Protocol error: request over the 1000-byte limit');
    // Many empty arguments cost their objects too.
    expect(parse([req(...Array<string>(15).fill(''))], limits).error).toBe('Protocol error: request over the 1000-byte limit');
  });

  it('never buffers more than one request plus what was pushed since the last pull', () => {
    const p = new RespParser({ maxRequestBytes: 4096 });
    const big = req('SET', 'k', 'v'.repeat(3000));
    for (let i = 0; i < big.length; i += 100) {
      p.push(big.subarray(i, i + 100));
      if (i + 100 < big.length) expect(p.next()).toBeNull();
      expect(p.bufferedBytes).toBeLessThanOrEqual(4096);
    }
    expect(p.next()?.length).toBe(3);
    expect(p.bufferedBytes).toBe(0);
  });

  it('costs O(1) per byte when fed one byte at a time (a quadratic parser would not finish)', { timeout: 20_000 }, () => {
    const many = req(...Array.from({ length: 20_000 }, (_, i) => String(i)));
    const line = Buffer.from(`${'x '.repeat(32 * 1024 - 1)}\r\n`);
    const p = new RespParser({ maxRequestBytes: 4 * 1024 * 1024 });
    let got = 0;
    for (const stream of [many, line]) {
      for (let i = 0; i < stream.length; i++) {
        p.push(stream.subarray(i, i + 1));
        const r = p.next();
        if (r) got += r.length;
      }
    }
    expect(p.error).toBeNull();
    expect(got).toBe(20_000 + 32 * 1024 - 1);
  });
});
