// An incremental RESP2 request parser: arrays of bulk strings, and inline commands as
// redis-server accepts them. Bounded completely (limits.ts); a violation is a protocol
// error that stays for good, worded as redis-server words it. Never throws.
//
// Linear in the bytes received however they are cut: a request in progress is resumed
// where it stopped, a line is searched only in the bytes not searched yet, and bytes are
// appended into spare room (a client sending one byte at a time costs O(1) per byte).
import { splitInline } from './inline.js';
import { ELEMENT_COST_BYTES, parserLimits, type RespParserLimits } from './limits.js';

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MIN_ROOM = 16 * 1024;

/** A strict decimal (optional '-', no leading zeros, no '+'), or NaN. */
function decimal(buf: Buffer, from: number, to: number): number {
  let i = from;
  const neg = buf[i] === 0x2d;
  if (neg) i++;
  const digits = to - i;
  if (digits < 1 || digits > 15 || (digits > 1 && buf[i] === 0x30)) return NaN;
  let n = 0;
  for (; i < to; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}

/** An array request in progress: its count, its arguments so far, where its next element starts. */
interface PartialArray {
  count: number;
  args: Buffer[];
  /** Offset from the request's start. */
  next: number;
}

const INCOMPLETE = Symbol('incomplete');
type Step = Buffer[] | null | typeof INCOMPLETE; // null: consumed, nothing to run (`*0`, a blank line)

export class RespParser {
  readonly limits: RespParserLimits;
  /** Storage: bytes [start, end) are received and not consumed. Never moved in place, so arguments stay valid. */
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private partial: PartialArray | null = null;
  /** A line being waited for: its offset from the request's start, and how far it was searched. */
  private lineFrom = -1;
  private lineScanned = 0;
  /** Parsing again is pointless until this many bytes from the request's start are held. */
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
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== null || chunk.length === 0) return;
    const held = this.end - this.start;
    if (held === 0 && this.buf.length - this.end < chunk.length) {
      // Nothing held: take the chunk as it is (the common case, no copy).
      this.buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    if (this.buf.length - this.end < chunk.length) {
      const room = Buffer.allocUnsafe(Math.max(MIN_ROOM, 2 * (held + chunk.length)));
      this.buf.copy(room, 0, this.start, this.end);
      this.buf = room;
      this.start = 0;
      this.end = held;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next complete request's arguments, or null (more bytes needed, or `error` set). Never throws. */
  next(): Buffer[] | null {
    while (this.failure === null && this.end - this.start >= this.need) {
      let step: Step;
      try {
        step = this.buf[this.start] === STAR ? this.multibulk() : this.inline();
      } catch (err) {
        // Unreachable by design; a parser bug must still not take the server down.
        this.fail(err instanceof Error ? err.message : 'parser failure');
        return null;
      }
      if (step === INCOMPLETE) return null;
      if (step !== null) return step;
    }
    return null;
  }

  private fail(message: string): typeof INCOMPLETE {
    this.failure = `Protocol error: ${message}`;
    this.buf = Buffer.alloc(0);
    this.start = this.end = 0;
    this.partial = null;
    return INCOMPLETE;
  }

  /** The request ends `bytes` after its start. */
  private consumed(bytes: number): void {
    this.lastRequestBytes = bytes;
    this.start += bytes;
    this.partial = null;
    this.lineFrom = -1;
    this.need = 1;
  }

  private incomplete(need: number): typeof INCOMPLETE {
    this.need = need;
    return INCOMPLETE;
  }

  /**
   * The offset (from the request's start) of the `term` byte ending the line at offset
   * `from`, searching only bytes not searched before; -1 when it has not arrived.
   */
  private findLine(from: number, term: number): number {
    const scanFrom = this.lineFrom === from ? this.lineScanned : from;
    const at = this.buf.subarray(0, this.end).indexOf(term, this.start + scanFrom);
    if (at >= 0) return at - this.start;
    this.lineFrom = from;
    this.lineScanned = this.end - this.start;
    return -1;
  }

  /** A `*N` or `$N` header line at offset `from`: its value and the offset after its CRLF. */
  private header(from: number, tooBig: string): { n: number; after: number } | typeof INCOMPLETE {
    const max = this.limits.maxInlineBytes;
    const cr = this.findLine(from, CR);
    if (cr < 0 || cr - from - 1 > max) {
      if (this.end - this.start - from - 1 > max) return this.fail(tooBig);
      return this.incomplete(this.end - this.start + 1);
    }
    if (this.start + cr + 1 >= this.end) return this.incomplete(cr + 2);
    if (this.buf[this.start + cr + 1] !== LF) return this.fail("expected '\\n' after '\\r'");
    return { n: decimal(this.buf, this.start + from + 1, this.start + cr), after: cr + 2 };
  }

  private overBudget(bytes: number, elements: number): boolean {
    return bytes + elements * ELEMENT_COST_BYTES > this.limits.maxRequestBytes;
  }

  private multibulk(): Step {
    const { maxArrayElements, maxBulkBytes, maxRequestBytes } = this.limits;
    let req = this.partial;
    if (req === null) {
      const h = this.header(0, 'too big mbulk count string');
      if (h === INCOMPLETE) return h;
      if (Number.isNaN(h.n) || h.n > maxArrayElements) return this.fail('invalid multibulk length');
      if (h.n <= 0) {
        this.consumed(h.after); // redis-server runs nothing for `*0` and `*-1`
        return null;
      }
      if (this.overBudget(h.after, 0)) return this.fail(`request over the ${maxRequestBytes}-byte limit`);
      req = this.partial = { count: h.n, args: [], next: h.after };
    }
    const buf = this.buf;
    while (req.args.length < req.count) {
      const p = req.next;
      if (this.start + p >= this.end) return this.incomplete(p + 1);
      const tag = buf[this.start + p]!;
      if (tag !== DOLLAR) return this.fail(`expected '$', got '${printable(tag)}'`);
      const h = this.header(p, 'too big bulk count string');
      if (h === INCOMPLETE) return h;
      if (Number.isNaN(h.n) || h.n < 0 || h.n > maxBulkBytes) return this.fail('invalid bulk length');
      const end = h.after + h.n + 2;
      if (this.overBudget(end, req.args.length + 1)) return this.fail(`request over the ${maxRequestBytes}-byte limit`);
      if (this.start + end > this.end) return this.incomplete(end);
      if (buf[this.start + end - 2] !== CR || buf[this.start + end - 1] !== LF) return this.fail("expected '\\r\\n' after a bulk string");
      req.args.push(buf.subarray(this.start + h.after, this.start + h.after + h.n));
      req.next = end;
    }
    this.consumed(req.next);
    return req.args;
  }

  private inline(): Step {
    const max = this.limits.maxInlineBytes;
    const nl = this.findLine(0, LF);
    // The bound is on the line without its CRLF; a CR alone at the end may be the first half.
    if (nl < 0) {
      if (this.end - this.start > max + 1) return this.fail('too big inline request');
      return this.incomplete(this.end - this.start + 1);
    }
    const lineEnd = nl > 0 && this.buf[this.start + nl - 1] === CR ? nl - 1 : nl;
    if (lineEnd > max) return this.fail('too big inline request');
    const args = splitInline(this.buf.subarray(this.start, this.start + lineEnd));
    if (args === null) return this.fail('unbalanced quotes in request');
    if (args.length > this.limits.maxArrayElements) return this.fail('invalid multibulk length');
    this.consumed(nl + 1);
    return args.length === 0 ? null : args;
  }
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
}
