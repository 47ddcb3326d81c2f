import { FrameError } from '../errors.js';

/** Written big-endian (0x05, 0xF5) so a desynced or foreign stream is caught at the first header. */
export const FRAME_MAGIC = 0x05f5;
/** u16 magic (BE) + u32 payload length (LE). */
export const FRAME_HEADER_BYTES = 6;

const MAX_U32 = 0xffff_ffff;

/** Throws RangeError unless the limit fits the u32 length field. */
export function checkMaxFrameBytes(maxFrameBytes: number): void {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > MAX_U32) {
    throw new RangeError(`maxFrameBytes must be an integer in 0..${MAX_U32}, got ${maxFrameBytes}`);
  }
}

function tooLarge(length: number, maxFrameBytes: number): FrameError {
  return new FrameError('FRAME_TOO_LARGE', `frame payload of ${length} bytes exceeds the ${maxFrameBytes}-byte limit`, {
    length,
    maxFrameBytes,
  });
}

function writeFrame(out: Buffer, offset: number, payload: Uint8Array): number {
  out.writeUInt16BE(FRAME_MAGIC, offset);
  out.writeUInt32LE(payload.length, offset + 2);
  out.set(payload, offset + FRAME_HEADER_BYTES);
  return offset + FRAME_HEADER_BYTES + payload.length;
}

/** One frame in a fresh buffer. Throws FrameError('FRAME_TOO_LARGE') if the payload exceeds the limit. */
export function encodeFrame(payload: Buffer | Uint8Array, maxFrameBytes: number): Buffer {
  checkMaxFrameBytes(maxFrameBytes);
  if (payload.length > maxFrameBytes) throw tooLarge(payload.length, maxFrameBytes);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrame(out, 0, payload);
  return out;
}

/** Several frames in one buffer, so a batch costs one write syscall. All-or-nothing on oversize. */
export function encodeFrames(payloads: readonly (Buffer | Uint8Array)[], maxFrameBytes: number): Buffer {
  checkMaxFrameBytes(maxFrameBytes);
  let total = 0;
  for (const p of payloads) {
    if (p.length > maxFrameBytes) throw tooLarge(p.length, maxFrameBytes);
    total += FRAME_HEADER_BYTES + p.length;
  }
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const p of payloads) offset = writeFrame(out, offset, p);
  return out;
}

/**
 * Incremental decoder for a byte stream of frames.
 *
 * Frames that lie whole inside one pushed chunk are returned as `subarray` views of that
 * chunk (no copy): a caller that keeps a frame after handling it must copy it. Frames that
 * straddle chunks are assembled into a buffer of their own, allocated once per frame.
 *
 * A framing error (bad magic, declared length over the limit) is thrown as soon as the
 * header is complete; frames decoded earlier from the same chunk are dropped with it, since
 * the stream is desynced and its link must be torn down anyway. The decoder then stays
 * failed: every later push throws the same error.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerHave = 0;
  private partial: Buffer | null = null;
  private partialHave = 0;
  private failure: FrameError | null = null;

  constructor(maxFrameBytes: number) {
    checkMaxFrameBytes(maxFrameBytes);
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The error that failed this decoder, if any. */
  get error(): FrameError | null {
    return this.failure;
  }

  /** Bytes held for an incomplete header or payload (non-zero at EOF means a truncated frame). */
  get bufferedBytes(): number {
    // A pending payload's header is held too: a stream cut right after a header is truncated.
    return this.headerHave + (this.partial ? FRAME_HEADER_BYTES + this.partialHave : 0);
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    const frames: Buffer[] = [];
    const end = chunk.length;
    let off = 0;

    if (this.partial) {
      off = this.fillPartial(chunk, off, frames);
      if (off === end) return frames;
    }

    if (this.headerHave > 0) {
      const take = Math.min(FRAME_HEADER_BYTES - this.headerHave, end - off);
      chunk.copy(this.header, this.headerHave, off, off + take);
      this.headerHave += take;
      off += take;
      if (this.headerHave < FRAME_HEADER_BYTES) return frames;
      this.headerHave = 0;
      const length = this.parseHeader(this.header, 0);
      this.startPartial(length, frames);
      if (this.partial) off = this.fillPartial(chunk, off, frames);
    }

    // Fast path: whole frames inside this chunk are sliced, not copied.
    while (end - off >= FRAME_HEADER_BYTES) {
      const length = this.parseHeader(chunk, off);
      const start = off + FRAME_HEADER_BYTES;
      if (end - start >= length) {
        frames.push(chunk.subarray(start, start + length));
        off = start + length;
      } else {
        this.startPartial(length, frames);
        this.fillPartial(chunk, start, frames);
        return frames;
      }
    }

    if (off < end) {
      chunk.copy(this.header, 0, off, end);
      this.headerHave = end - off;
    }
    return frames;
  }

  private parseHeader(buf: Buffer, at: number): number {
    const magic = buf.readUInt16BE(at);
    if (magic !== FRAME_MAGIC) {
      this.failure = new FrameError(
        'FRAME_BAD_PREFIX',
        `bad frame prefix 0x${magic.toString(16).padStart(4, '0')} (expected 0x${FRAME_MAGIC.toString(16).padStart(4, '0')})`,
        { prefix: magic },
      );
      throw this.failure;
    }
    const length = buf.readUInt32LE(at + 2);
    if (length > this.maxFrameBytes) {
      this.failure = tooLarge(length, this.maxFrameBytes);
      throw this.failure;
    }
    return length;
  }

  private startPartial(length: number, frames: Buffer[]): void {
    if (length === 0) {
      frames.push(Buffer.alloc(0));
      return;
    }
    this.partial = Buffer.allocUnsafe(length);
    this.partialHave = 0;
  }

  /** Copies what the chunk has of the pending payload; returns the new offset. */
  private fillPartial(chunk: Buffer, off: number, frames: Buffer[]): number {
    const partial = this.partial!;
    const take = Math.min(partial.length - this.partialHave, chunk.length - off);
    chunk.copy(partial, this.partialHave, off, off + take);
    this.partialHave += take;
    if (this.partialHave === partial.length) {
      frames.push(partial);
      this.partial = null;
      this.partialHave = 0;
    }
    return off + take;
  }
}
