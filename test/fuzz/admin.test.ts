// Admin requests on the watchdog's control socket (decodeAdminRequest): a request it
// knows, or an Error naming what is wrong; never another throw, whatever the bytes.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type AdminRequest, decodeAdminRequest } from '../../dist/protocol/admin.js';
import { anyJsonValue, budget, fuzz, jsonBytes, mutated, randomBytes, thrownBy } from './harness.js';

function decodeChecked(b: Uint8Array): AdminRequest | undefined {
  let r: AdminRequest | undefined;
  const err = thrownBy(() => (r = decodeAdminRequest(b)));
  if (err !== undefined) {
    assert.ok(err instanceof Error);
    return undefined;
  }
  assert.ok(r !== undefined && (r.op === 'status' || r.op === 'stop'));
  assert.deepStrictEqual(Object.keys(r), ['op']);
  return r;
}

const request = fc.constantFrom<AdminRequest>({ op: 'status' }, { op: 'stop' });

describe('decodeAdminRequest under fuzzing', () => {
  it('decodes or throws an Error for random bytes', () => {
    fuzz('decodeAdminRequest', randomBytes([0x7b, 0x5b, 0x22], 96), budget(1000, 60_000), (b) => void decodeChecked(b));
  });

  it('decodes or throws an Error for request-shaped JSON with any values', () => {
    const arb = fc
      .record({ op: fc.oneof(fc.constantFrom('status', 'stop', 'STOP', '__proto__'), anyJsonValue), extra: anyJsonValue }, { requiredKeys: [] })
      .map((o) => jsonBytes(o));
    fuzz('decodeAdminRequest', arb, budget(500, 40_000), (b) => void decodeChecked(b));
  });

  it('decodes or throws an Error for damaged valid requests', () => {
    fuzz('decodeAdminRequest', mutated(request.map((r) => jsonBytes(r))), budget(500, 40_000), (b) => void decodeChecked(b));
  });

  it('round-trips every valid request', () => {
    fuzz('decodeAdminRequest', request, budget(50, 1_000), (r) => assert.deepStrictEqual(decodeChecked(jsonBytes(r)), r));
  });

  it('refuses what is not a request', () => {
    for (const s of ['', 'null', '[]', '"status"', '{}', '{"op":"restart"}', '{"op":["stop"]}']) assert.throws(() => decodeAdminRequest(Buffer.from(s)), Error);
  });
});
