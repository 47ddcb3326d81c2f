// FIFO framing (FrameDecoder): any byte stream, cut anywhere, yields frames or a FrameError
// (and then the same FrameError for good); valid streams come back frame for frame.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { FrameError } from '../../dist/errors.js';
import { FRAME_HEADER_BYTES, FRAME_MAGIC, FrameDecoder, encodeFrames } from '../../dist/ipc/framing.js';
import { budget, fuzz, mutated } from './harness.js';

/** Cuts `stream` at the given points into the chunks a FIFO read might deliver. */
function chunksOf(stream: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(stream.subarray(prev, c));
    prev = c;
  }
  out.push(stream.subarray(prev));
  return out;
}

/** Pushes every chunk, checking the decoder's contract; returns the frames and the failure. */
function decodeChecked(max: number, chunks: Buffer[]): { frames: Buffer[]; failure: FrameError | null } {
  const d = new FrameDecoder(max);
  const frames: Buffer[] = [];
  let pushed = 0;
  let failure: FrameError | null = null;
  for (const c of chunks) {
    pushed += c.length;
    try {
      const got = d.push(c);
      assert.equal(failure, null);
      for (const f of got) {
        assert.ok(f.length <= max);
        frames.push(Buffer.from(f));
      }
    } catch (err) {
      assert.ok(err instanceof FrameError);
      // Once failed, always the same error.
      if (failure) assert.equal(err, failure);
      failure = err as FrameError;
      assert.equal(d.error, failure);
    }
  }
  const payloadBytes = frames.reduce((n, f) => n + f.length, 0);
  assert.ok(payloadBytes + frames.length * FRAME_HEADER_BYTES <= pushed);
  if (!failure) assert.equal(payloadBytes + frames.length * FRAME_HEADER_BYTES + d.bufferedBytes, pushed);
  return { frames, failure };
}

const limit = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 65_536 }));
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const payloads = fc.array(fc.uint8Array({ maxLength: 96 }), { maxLength: 8 });
const header = fc
  .tuple(fc.oneof(fc.constant(FRAME_MAGIC), fc.nat(0xffff)), fc.oneof(fc.nat(128), fc.nat(0xffffffff)))
  .map(([magic, len]) => {
    const h = Buffer.alloc(FRAME_HEADER_BYTES);
    h.writeUInt16BE(magic, 0);
    h.writeUInt32LE(len, 2);
    return h;
  });

describe('FrameDecoder under fuzzing', () => {
  it('yields frames or one FrameError for random byte streams', () => {
    const stream = fc.oneof(
      fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u)),
      // Mostly well-formed headers with random lengths, so the payload paths are reached too.
      fc.array(fc.tuple(header, fc.uint8Array({ maxLength: 64 })), { maxLength: 6 }).map((fs) => Buffer.concat(fs.flat())),
    );
    fuzz('FrameDecoder', fc.tuple(limit, stream, cuts), budget(1000, 80_000), ([max, s, c]) => void decodeChecked(max, chunksOf(s, c)));
  });

  it('yields frames or one FrameError for damaged valid streams', () => {
    const valid = payloads.map((ps) => encodeFrames(ps, 65_536));
    fuzz('FrameDecoder', fc.tuple(mutated(valid), cuts), budget(1000, 80_000), ([s, c]) => void decodeChecked(65_536, chunksOf(s, c)));
  });

  it('round-trips valid streams however they are cut', () => {
    fuzz('FrameDecoder', fc.tuple(payloads, cuts), budget(500, 40_000), ([ps, c]) => {
      const { frames, failure } = decodeChecked(65_536, chunksOf(encodeFrames(ps, 65_536), c));
      assert.equal(failure, null);
      assert.deepStrictEqual(frames, ps.map((p) => Buffer.from(p)));
    });
  });
});
