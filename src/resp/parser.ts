// An incremental RESP2 request parser: arrays of bulk strings, and inline commands as
// redis-server accepts them. Bounded completely (limits.ts); a violation is a protocol
// error that stays for good, worded as redis-server words it. Never throws.
import { splitInline } from './inline.js';
import { ELEMENT_COST_BYTES, parserLimits, type RespParserLimits } from './limits.js';

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const EMPTY = Buffer.alloc(0);

/** `incomplete`: more bytes are needed; `skip`: bytes consumed, nothing to run (`*0`, a blank line). */
type Step = Buffer[] | 'incomplete' | 'skip' | { error: string };

/** A strict decimal (optional '-', no leading zeros, no '+'), or NaN. */
function decimal(buf: Buffer, from: number, to: number): number {
  let i = from;
  const neg = buf[i] === 0x2d;
  if (neg) i++;
  const digits = to - i;
  if (digits < 1 || digits > 15 || (digits > 1 && buf[i] === 0x30)) return NaN;
  let n = 0;
  for (; i < to; i++) {
    const d = (buf[i] as number) - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

export class RespParser {
  readonly limits: RespParserLimits;
  /** Bytes received and not yet consumed: `buf` from `pos`, then the chunks of `pending`. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Parsing again is pointless until this many bytes are buffered. */
  private need = 1;
  private failure: string | null = null;
  /** Wire bytes of the request `next()` returned last. */
  lastRequestBytes = 0;

  constructor(limits: Partial<RespParserLimits> = {}) {
    this.limits = parserLimits(limits);
  }

  /** The protocol error, once there is one (`Protocol error: …`); the connection must close. */
  get error(): string | null {
    return this.failure;
  }

  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== null || chunk.length === 0) return;
    this.pending.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.pendingBytes += chunk.length;
  }

  /** The next complete request's arguments, or null (more bytes needed, or `error` set). */
  next(): Buffer[] | null {
    while (this.failure === null && this.bufferedBytes >= this.need) {
      if (this.pending.length > 0) this.consolidate();
      const start = this.pos;
      let step: Step;
      try {
        step = this.buf[start] === STAR ? this.multibulk(start) : this.inline(start);
      } catch (err) {
        // Unreachable by design; a parser bug must still not take the server down.
        step = { error: `Protocol error: ${err instanceof Error ? err.message : 'parser failure'}` };
      }
      if (step === 'incomplete') return null;
      if (typeof step === 'object' && !Array.isArray(step)) {
        this.fail(step.error);
        return null;
      }
      this.lastRequestBytes = this.pos - start;
      this.need = 1;
      if (this.pos === this.buf.length) {
        this.buf = EMPTY;
        this.pos = 0;
      }
      if (step !== 'skip') return step;
    }
    return null;
  }

  private fail(message: string): void {
    this.failure = message;
    this.buf = EMPTY;
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private consolidate(): void {
    const parts = this.pos < this.buf.length ? [this.buf.subarray(this.pos), ...this.pending] : this.pending;
    this.buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Wait until `bytes` bytes from the request's start are buffered before trying again. */
  private incomplete(bytes: number): 'incomplete' {
    this.need = bytes;
    return 'incomplete';
  }

  /** The position of the CR of the CRLF ending the line at `from`, 'incomplete', or an error. */
  private lineEnd(start: number, from: number, tooBig: string): number | Step {
    const cr = this.buf.indexOf(CR, from);
    if (cr < 0 || cr - from > this.limits.maxInlineBytes) {
      if (this.buf.length - from > this.limits.maxInlineBytes) return { error: `Protocol error: ${tooBig}` };
      return this.incomplete(this.buf.length - start + 1);
    }
    if (cr + 1 >= this.buf.length) return this.incomplete(cr + 2 - start);
    if (this.buf[cr + 1] !== LF) return { error: "Protocol error: expected '\\n' after '\\r'" };
    return cr;
  }

  private multibulk(start: number): Step {
    const { maxArrayElements, maxBulkBytes, maxRequestBytes } = this.limits;
    const headEnd = this.lineEnd(start, start + 1, 'too big mbulk count string');
    if (typeof headEnd !== 'number') return headEnd;
    const count = decimal(this.buf, start + 1, headEnd);
    if (Number.isNaN(count) || count > maxArrayElements) return { error: 'Protocol error: invalid multibulk length' };
    let p = headEnd + 2;
    if (count <= 0) {
      this.pos = p; // redis-server runs nothing for `*0` and `*-1`
      return 'skip';
    }
    const args: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (p >= this.buf.length) return this.incomplete(p - start + 1);
      const tag = this.buf[p] as number;
      if (tag !== DOLLAR) return { error: `Protocol error: expected '$', got '${printable(tag)}'` };
      const lenEnd = this.lineEnd(start, p + 1, 'too big bulk count string');
      if (typeof lenEnd !== 'number') return lenEnd;
      const len = decimal(this.buf, p + 1, lenEnd);
      if (Number.isNaN(len) || len < 0 || len > maxBulkBytes) return { error: 'Protocol error: invalid bulk length' };
      const dataStart = lenEnd + 2;
      const end = dataStart + len + 2;
      if (end - start + (i + 1) * ELEMENT_COST_BYTES > maxRequestBytes) {
        return { error: `Protocol error: request over the ${maxRequestBytes}-byte limit` };
      }
      if (end > this.buf.length) return this.incomplete(end - start);
      if (this.buf[end - 2] !== CR || this.buf[end - 1] !== LF) return { error: "Protocol error: expected '\\r\\n' after a bulk string" };
      args.push(this.buf.subarray(dataStart, dataStart + len));
      p = end;
    }
    this.pos = p;
    return args;
  }

  private inline(start: number): Step {
    const max = this.limits.maxInlineBytes;
    const nl = this.buf.indexOf(LF, start);
    // The bound is on the line without its CRLF; a CR alone at the end may be the first half.
    if (nl < 0) {
      if (this.buf.length - start > max + 1) return { error: 'Protocol error: too big inline request' };
      return this.incomplete(this.buf.length - start + 1);
    }
    const lineEnd = nl > start && this.buf[nl - 1] === CR ? nl - 1 : nl;
    if (lineEnd - start > max) return { error: 'Protocol error: too big inline request' };
    const args = splitInline(this.buf.subarray(start, lineEnd));
    if (args === null) return { error: 'Protocol error: unbalanced quotes in request' };
    if (args.length > this.limits.maxArrayElements) return { error: 'Protocol error: invalid multibulk length' };
    this.pos = nl + 1;
    return args.length === 0 ? 'skip' : args;
  }
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
}
