import { describe, expect, it } from 'vitest';
import { FrameError } from '../../dist/errors.js';
import { FRAME_HEADER_BYTES, FRAME_MAGIC, FrameDecoder, encodeFrame, encodeFrames } from '../../dist/ipc/framing.js';

const MAX = 64 * 1024;

// Deterministic PRNG so a failing cut pattern can be reproduced.
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function payloadOf(i: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = (i * 31 + j) & 0xff;
  return b;
}

function expectFrameError(fn: () => unknown, code: string): FrameError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(FrameError);
  expect((caught as FrameError).code).toBe(code);
  return caught as FrameError;
}

function header(magic: number, length: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h.writeUInt16BE(magic, 0);
  h.writeUInt32LE(length, 2);
  return h;
}

describe('framing', () => {
  it('writes magic big-endian then length little-endian', () => {
    const f = encodeFrame(Buffer.from('abc'), MAX);
    expect([...f.subarray(0, FRAME_HEADER_BYTES)]).toEqual([0x05, 0xf5, 3, 0, 0, 0]);
    expect(FRAME_MAGIC).toBe(0x05f5);
  });

  it('round-trips payloads, including empty ones', () => {
    const payloads = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0, 255, 5, 0xf5]), new Uint8Array([1, 2])];
    const out: Buffer[] = [];
    const dec = new FrameDecoder(MAX);
    for (const p of payloads) out.push(...dec.push(encodeFrame(p, MAX)));
    expect(out.map((b) => [...b])).toEqual(payloads.map((p) => [...p]));
    expect(dec.bufferedBytes).toBe(0);
  });

  it('counts a stream cut right after a complete header as truncated', () => {
    const dec = new FrameDecoder(MAX);
    const frame = encodeFrame(Buffer.from('abc'), MAX);
    expect(dec.push(frame.subarray(0, FRAME_HEADER_BYTES))).toEqual([]);
    expect(dec.bufferedBytes).toBe(FRAME_HEADER_BYTES);
    expect(dec.push(frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + 1))).toEqual([]);
    expect(dec.bufferedBytes).toBe(FRAME_HEADER_BYTES + 1);
    expect(dec.push(frame.subarray(FRAME_HEADER_BYTES + 1))).toEqual([Buffer.from('abc')]);
    expect(dec.bufferedBytes).toBe(0);
  });

  it('decodes byte-by-byte feeds', () => {
    const payloads = [0, 1, 5, 6, 7, 300].map((n, i) => payloadOf(i, n));
    const stream = encodeFrames(payloads, MAX);
    const dec = new FrameDecoder(MAX);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      // Copy of the subarray so a decoder that keeps views of old chunks would be caught.
      for (const f of dec.push(Buffer.from(stream.subarray(i, i + 1)))) out.push(Buffer.from(f));
    }
    expect(out).toEqual(payloads);
  });

  it('decodes 1000 random-size frames fed in random cuts', () => {
    const rand = rng(12345);
    const payloads = Array.from({ length: 1000 }, (_, i) => payloadOf(i, rand(5001)));
    const stream = encodeFrames(payloads, MAX);
    for (let round = 0; round < 5; round++) {
      const dec = new FrameDecoder(MAX);
      const out: Buffer[] = [];
      let off = 0;
      while (off < stream.length) {
        const cut = Math.min(stream.length - off, 1 + rand(round % 2 === 0 ? 20 : 9000));
        const chunk = Buffer.from(stream.subarray(off, off + cut));
        for (const f of dec.push(chunk)) out.push(Buffer.from(f));
        chunk.fill(0xaa); // a frame view that outlived its chunk would now be garbage
        off += cut;
      }
      expect(out.length).toBe(payloads.length);
      for (let i = 0; i < payloads.length; i++) expect(out[i]!.equals(payloads[i]!)).toBe(true);
      expect(dec.bufferedBytes).toBe(0);
    }
  });

  it('decodes 100 frames merged into one chunk', () => {
    const payloads = Array.from({ length: 100 }, (_, i) => payloadOf(i, i * 3));
    const out = new FrameDecoder(MAX).push(encodeFrames(payloads, MAX));
    expect(out).toEqual(payloads);
  });

  it('refuses oversize payloads on encode', () => {
    expectFrameError(() => encodeFrame(Buffer.alloc(11), 10), 'FRAME_TOO_LARGE');
    expectFrameError(() => encodeFrames([Buffer.alloc(1), Buffer.alloc(11)], 10), 'FRAME_TOO_LARGE');
    expect(encodeFrame(Buffer.alloc(10), 10).length).toBe(16);
  });

  it('refuses an oversize declared length from the header alone', () => {
    const dec = new FrameDecoder(10);
    const err = expectFrameError(() => dec.push(header(FRAME_MAGIC, 11)), 'FRAME_TOO_LARGE');
    expect(err.detail).toMatchObject({ length: 11, maxFrameBytes: 10 });
  });

  it('refuses an oversize header split across chunks', () => {
    const dec = new FrameDecoder(10);
    const h = header(FRAME_MAGIC, 0xffff_ffff);
    expect(dec.push(h.subarray(0, 4))).toEqual([]);
    expectFrameError(() => dec.push(h.subarray(4)), 'FRAME_TOO_LARGE');
  });

  it('refuses a bad prefix, even after good frames', () => {
    const dec = new FrameDecoder(MAX);
    expect(dec.push(encodeFrame(Buffer.from('ok'), MAX))).toHaveLength(1);
    expectFrameError(() => dec.push(Buffer.from('GET / HTTP/1.1\r\n')), 'FRAME_BAD_PREFIX');
    expectFrameError(() => new FrameDecoder(MAX).push(header(0xf505, 1)), 'FRAME_BAD_PREFIX');
  });

  it('stays failed after an error', () => {
    const dec = new FrameDecoder(MAX);
    const first = expectFrameError(() => dec.push(Buffer.from([0xde, 0xad, 0, 0, 0, 0])), 'FRAME_BAD_PREFIX');
    expect(dec.error).toBe(first);
    for (let i = 0; i < 3; i++) {
      let again: unknown;
      try {
        dec.push(encodeFrame(Buffer.from('valid'), MAX));
      } catch (err) {
        again = err;
      }
      expect(again).toBe(first);
    }
  });

  it('rejects a limit that does not fit the u32 length field', () => {
    expect(() => new FrameDecoder(-1)).toThrow(RangeError);
    expect(() => new FrameDecoder(2 ** 32)).toThrow(RangeError);
    expect(() => encodeFrame(Buffer.alloc(0), 1.5)).toThrow(RangeError);
  });
});
