// The public client wire protocol (docs/PROTOCOL.md): one schema, used by the server,
// the client library and the tests.
import { isUtf8 } from 'node:buffer';
import { MAX_ID_CHARS, MAX_KEY_BYTES } from './limits.js';
import { SERVICE_OP_NAME } from './service.js';

export const OPS = ['ping', 'get', 'set', 'del', 'incr', 'info'] as const;
export type Op = (typeof OPS)[number];
export const WRITE_OPS: ReadonlySet<Op> = new Set<Op>(['set', 'del', 'incr']);

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNKNOWN_OP'
  | 'TOO_LARGE'
  | 'WRONG_TYPE'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'SERVICE_ERROR'
  | 'POISONED'
  | 'ID_REUSED';

/** A code of PROTOCOL.md, or a service's own (`^[A-Z][A-Z0-9_]{1,31}$`, SERVICE.md). */
export type ReplyCode = ErrorCode | (string & Record<never, never>);

export interface Request {
  id: string;
  /** An op of PROTOCOL.md, or one of the loaded service's (SERVICE.md). */
  op: Op | (string & Record<never, never>);
  key?: string;
  value?: string;
  by?: number;
  /** A service op's arguments; for the key-value ops, `{key, value, by}` (the fields above win). */
  args?: Json;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface OkReply {
  id: string;
  ok: true;
  result: Json;
}
export interface ErrReply {
  id: string | null;
  ok: false;
  error: { code: ReplyCode; message: string };
}
export type Reply = OkReply | ErrReply;

export type ParseResult = { ok: true; req: Request } | { ok: false; reply: ErrReply };

export function errorReply(id: string | null, code: ReplyCode, message: string): ErrReply {
  return { id, ok: false, error: { code, message } };
}

export function isWrite(op: Op): boolean {
  return WRITE_OPS.has(op);
}

function fail(id: string | null, code: ErrorCode, message: string): ParseResult {
  return { ok: false, reply: errorReply(id, code, message) };
}

/** Validates one request frame; never throws. */
export function parseRequest(frame: Uint8Array, maxFrameBytes: number): ParseResult {
  if (frame.length > maxFrameBytes) {
    return fail(null, 'TOO_LARGE', `request is ${frame.length} bytes, over the ${maxFrameBytes}-byte limit`);
  }
  if (!isUtf8(frame)) return fail(null, 'BAD_REQUEST', 'request is not valid UTF-8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8'));
  } catch {
    return fail(null, 'BAD_REQUEST', 'request is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(null, 'BAD_REQUEST', 'request must be a JSON object');
  }
  const o = parsed as Record<string, unknown>;
  const rawId = o.id;
  const id = typeof rawId === 'string' && rawId.length >= 1 && rawId.length <= MAX_ID_CHARS ? rawId : null;
  if (id === null) return fail(null, 'BAD_REQUEST', `'id' must be a string of 1-${MAX_ID_CHARS} characters`);
  if (typeof o.op !== 'string') return fail(id, 'BAD_REQUEST', "'op' must be a string");
  if (!(OPS as readonly string[]).includes(o.op)) {
    // A service's op: whether the service has it is the host's to say.
    if (!SERVICE_OP_NAME.test(o.op)) return fail(id, 'UNKNOWN_OP', `unknown op '${o.op.slice(0, 64)}'`);
    // Absent arguments are an empty object, so a handler can destructure them.
    return { ok: true, req: { id, op: o.op, args: o.args === undefined ? {} : (o.args as Json) } };
  }
  const op = o.op as Op;
  const req: Request = { id, op };
  if (o.args !== undefined && (op === 'get' || op === 'set' || op === 'del' || op === 'incr')) {
    if (typeof o.args !== 'object' || o.args === null || Array.isArray(o.args)) return fail(id, 'BAD_REQUEST', "'args' must be an object");
    // The top-level fields of PROTOCOL.md and `args` are two spellings of the same arguments.
    const a = o.args as Record<string, unknown>;
    for (const f of ['key', 'value', 'by'] as const) if (o[f] === undefined) o[f] = a[f];
  }
  if (op === 'get' || op === 'set' || op === 'del' || op === 'incr') {
    if (typeof o.key !== 'string' || o.key.length === 0) return fail(id, 'BAD_REQUEST', "'key' must be a non-empty string");
    if (Buffer.byteLength(o.key) > MAX_KEY_BYTES) return fail(id, 'TOO_LARGE', `key is over ${MAX_KEY_BYTES} bytes`);
    req.key = o.key;
  }
  if (op === 'set') {
    if (typeof o.value !== 'string') return fail(id, 'BAD_REQUEST', "'value' must be a string");
    req.value = o.value;
  }
  if (op === 'incr') {
    if (o.by === undefined) req.by = 1;
    else if (typeof o.by === 'number' && Number.isSafeInteger(o.by)) req.by = o.by;
    else return fail(id, 'BAD_REQUEST', "'by' must be a safe integer");
  }
  return { ok: true, req };
}

/**
 * A key-value op's arguments as the service takes them: always the same fields in the same
 * order, so a retry spelled with top-level fields or with `args` has the same digest.
 */
export function kvArgs(req: Request): Json {
  if (!(OPS as readonly string[]).includes(req.op)) return req.args ?? {};
  if (req.op === 'set') return { key: req.key as string, value: req.value as string };
  if (req.op === 'incr') return { key: req.key as string, by: req.by ?? 1 };
  return { key: req.key as string };
}

export function encodeReply(reply: Reply): Buffer {
  return Buffer.from(JSON.stringify(reply));
}
