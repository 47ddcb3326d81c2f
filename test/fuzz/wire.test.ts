// Client request frames (parseRequest): whatever arrives, an answer and never a throw; a
// valid request survives its own encoding.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { MAX_ID_CHARS, MAX_KEY_BYTES } from '../../dist/protocol/limits.js';
import { SERVICE_OP_NAME } from '../../dist/protocol/service.js';
import { OPS, type ParseResult, type Request, parseRequest } from '../../dist/protocol/wire.js';
import { anyJsonValue, budget, fuzz, jsonBytes, mutated, randomBytes, thrownBy } from './harness.js';

const ERROR_CODES = ['BAD_REQUEST', 'UNKNOWN_OP', 'TOO_LARGE', 'WRONG_TYPE', 'UNAVAILABLE', 'INTERNAL'];
const MAX_FRAME = 64 * 1024;

/** The contract of a parse: a well-formed request or a well-formed error reply. */
function expectWellFormed(r: ParseResult): void {
  if (r.ok) {
    const q = r.req;
    assert.ok(typeof q.id === 'string' && q.id.length >= 1 && q.id.length <= MAX_ID_CHARS);
    // A built-in op, or a service's op (whether the service has it is the host's to say).
    assert.ok((OPS as readonly unknown[]).includes(q.op) || SERVICE_OP_NAME.test(q.op));
    if (q.op === 'get' || q.op === 'set' || q.op === 'del' || q.op === 'incr') {
      assert.ok(typeof q.key === 'string' && q.key.length > 0 && Buffer.byteLength(q.key) <= MAX_KEY_BYTES);
    }
    if (q.op === 'set') assert.equal(typeof q.value, 'string');
    if (q.op === 'incr') assert.ok(Number.isSafeInteger(q.by));
  } else {
    assert.equal(r.reply.ok, false);
    assert.ok((ERROR_CODES as readonly unknown[]).includes(r.reply.error.code));
    assert.equal(typeof r.reply.error.message, 'string');
    assert.ok(r.reply.id === null || typeof r.reply.id === 'string');
  }
}

function parseChecked(frame: Uint8Array, max = MAX_FRAME): ParseResult {
  let r: ParseResult | undefined;
  const err = thrownBy(() => {
    r = parseRequest(frame, max);
  });
  assert.equal(err, undefined);
  expectWellFormed(r as ParseResult);
  return r as ParseResult;
}

const key = fc.string({ minLength: 1, maxLength: 40, unit: 'binary' });
const validRequest: fc.Arbitrary<Request> = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: MAX_ID_CHARS, unit: 'binary' }).filter((s) => s.length <= MAX_ID_CHARS),
    op: fc.constantFrom(...OPS),
    key,
    value: fc.string({ maxLength: 200, unit: 'binary' }),
    by: fc.oneof(fc.constant(undefined), fc.maxSafeInteger(), fc.integer()),
  })
  .map(({ id, op, key: k, value, by }) => {
    const r: Request = { id, op };
    if (op === 'get' || op === 'set' || op === 'del' || op === 'incr') r.key = k;
    if (op === 'set') r.value = value;
    if (op === 'incr' && by !== undefined) r.by = by;
    return r;
  });
const validFrame = validRequest.map((r) => jsonBytes(r));

/** Objects with the request's field names but any values: the shape checks, one by one. */
const lookalike = fc
  .record(
    {
      id: fc.oneof(fc.string({ maxLength: 140 }), anyJsonValue),
      op: fc.oneof(fc.constantFrom(...OPS, 'GET', 'set ', ''), anyJsonValue),
      key: fc.oneof(fc.string({ maxLength: 1100 }), anyJsonValue),
      value: anyJsonValue,
      by: fc.oneof(fc.constantFrom(1.5, 2 ** 53, -(2 ** 53), Number.MAX_VALUE), anyJsonValue),
    },
    { requiredKeys: [] },
  )
  .map((o) => jsonBytes(o));

describe('parseRequest under fuzzing', () => {
  it('answers random bytes without throwing', () => {
    fuzz('parseRequest', randomBytes([0x7b, 0x5b, 0x22]), budget(1500, 120_000), (b) => void parseChecked(b));
  });

  it('answers request-shaped JSON with wrong types and values', () => {
    fuzz('parseRequest', lookalike, budget(1500, 100_000), (b) => void parseChecked(b));
  });

  it('answers damaged valid requests', () => {
    fuzz('parseRequest', mutated(validFrame), budget(1500, 100_000), (b) => void parseChecked(b));
  });

  it('round-trips every valid request', () => {
    fuzz('parseRequest', validRequest, budget(1000, 50_000), (req) => {
      const r = parseChecked(jsonBytes(req));
      assert.ok(r.ok);
      if (r.ok) assert.deepStrictEqual(r.req, req.op === 'incr' && req.by === undefined ? { ...req, by: 1 } : req);
    });
  });

  it('answers TOO_LARGE for a frame over the limit, whatever it holds', () => {
    fuzz('parseRequest', fc.tuple(randomBytes([], 64), fc.nat(63)), budget(250, 10_000), ([b, max]) => {
      const r = parseChecked(b, max);
      if (b.length > max) assert.ok(!r.ok && r.reply.error.code === 'TOO_LARGE');
    });
  });
});
