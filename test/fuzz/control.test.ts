// Watchdog control messages (decodeControl, used by the watchdog's pinger and the server's
// control link): never throws, null for anything that is not a message; valid ones round-trip.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { ServerCounters } from '../../dist/protocol/server-metrics.js';
import type { Standby } from '../../dist/protocol/standby.js';
import { type ServerToWatchdog, type WatchdogToServer, decodeControl, encodeControl } from '../../dist/protocol/control.js';
import { anyJsonValue, budget, fuzz, jsonBytes, mutated, randomBytes, thrownBy } from './harness.js';

type Control = ServerToWatchdog | WatchdogToServer;

function decodeChecked(b: Buffer): Control | null {
  let m: Control | null = null;
  assert.equal(thrownBy(() => (m = decodeControl<Control>(b))), undefined);
  if (m !== null) {
    assert.equal(typeof m, 'object');
    assert.equal(typeof (m as { t: unknown }).t, 'string');
  }
  return m;
}

const role = fc.constantFrom('primary' as const, 'secondary' as const);
const seq = fc.maxSafeNat();
const epoch = fc.nat(0x7fffffff);
const standby = fc.constantFrom<Standby>('absent', 'syncing', 'in-sync');
const tally = fc.dictionary(fc.stringMatching(/^[a-z]{1,12}$/), fc.nat(), { maxKeys: 8 });
const counters: fc.Arbitrary<ServerCounters> = fc.record({
  writesByOp: tally,
  errorsByCode: tally,
  commitSeq: seq,
  replicationLag: fc.record({ entries: fc.nat(), bytes: fc.nat() }),
  // JSON has no -0.
  fsyncMs: fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }).map((x) => (x === 0 ? 0 : x)), { maxLength: 8 }),
});
const control: fc.Arbitrary<Control> = fc.oneof(
  fc.record({ t: fc.constant('hello' as const), token: fc.string({ maxLength: 40 }), pid: fc.nat(), role, epoch }),
  fc.record({
    t: fc.constant('pong' as const),
    seq,
    role,
    epoch,
    commitSeq: seq,
    keys: fc.nat(),
    standby,
    synced: fc.boolean(),
    counters,
  }, { requiredKeys: ['t', 'seq', 'role', 'epoch', 'commitSeq', 'keys', 'standby', 'synced'] }),
  fc.record({ t: fc.constant('ready' as const), role, epoch }),
  fc.record({ t: fc.constant('promoted' as const), epoch, commitSeq: seq }),
  fc.record({ t: fc.constant('standby' as const), state: standby, commitSeq: seq, peerPid: fc.nat() }),
  fc.record({ t: fc.constant('synced' as const), commitSeq: seq }),
  fc.record({ t: fc.constant('failed' as const), reason: fc.string({ maxLength: 64 }), code: fc.string({ maxLength: 16 }) }, { requiredKeys: ['t', 'reason'] }),
  fc.record({ t: fc.constant('ping' as const), seq, epoch }),
  fc.record({ t: fc.constant('promote' as const), epoch }),
  fc.record({ t: fc.constant('stop' as const) }),
);

// A pong whose counters are there but any JSON at all.
const pongWithAnyCounters = fc
  .record({ counters: fc.oneof(anyJsonValue, counters.map((c) => ({ ...c, fsyncMs: [...c.fsyncMs, -1] })), counters.map((c) => ({ ...c, replicationLag: { entries: 'x' } }))) })
  .map((o) => jsonBytes({ t: 'pong', seq: 1, role: 'primary', epoch: 1, commitSeq: 0, keys: 0, standby: 'in-sync', synced: true, ...o }));

const lookalike = fc
  .record({ t: fc.oneof(fc.constantFrom('ping', 'promote', 'stop', 'pong', 'hello', 'failed'), anyJsonValue), seq: anyJsonValue, epoch: anyJsonValue, role: anyJsonValue }, { requiredKeys: [] })
  .map((o) => jsonBytes(o));

describe('decodeControl under fuzzing', () => {
  it('returns null or a message for random bytes', () => {
    fuzz('decodeControl', randomBytes([0x7b], 128), budget(1000, 80_000), (b) => void decodeChecked(b));
  });

  it('returns null or a message for message-shaped JSON with any values', () => {
    fuzz('decodeControl', lookalike, budget(500, 50_000), (b) => void decodeChecked(b));
  });

  it('returns null or a message for damaged valid messages', () => {
    fuzz('decodeControl', mutated(control.map(encodeControl)), budget(500, 50_000), (b) => void decodeChecked(b));
  });

  it('round-trips every valid message', () => {
    fuzz('decodeControl', control, budget(500, 20_000), (m) => assert.deepStrictEqual(decodeChecked(encodeControl(m)), structuredClone(m)));
  });

  // The pong is the server's sign of life: bad counters are dropped, never the pong with them.
  it('keeps a pong whose counters are wrong, without them', () => {
    fuzz('decodeControl', pongWithAnyCounters, budget(500, 50_000), (b) => {
      const m = decodeChecked(b);
      assert.ok(m && m.t === 'pong');
      if (m.counters !== undefined) {
        assert.ok(m.counters.fsyncMs.every((x) => Number.isFinite(x) && x >= 0));
        assert.ok(Number.isSafeInteger(m.counters.replicationLag.entries));
      }
    });
    const pong = { t: 'pong', seq: 1, role: 'primary', epoch: 1, commitSeq: 0, keys: 0, standby: 'in-sync', synced: true };
    assert.deepStrictEqual(decodeControl(Buffer.from(JSON.stringify({ ...pong, counters: { writesByOp: { set: -1 } } }))), pong);
    const tooMany = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`op${i}`, 1]));
    const good = { writesByOp: { set: 3 }, errorsByCode: {}, commitSeq: 3, replicationLag: { entries: 0, bytes: 0 }, fsyncMs: [0.4] };
    assert.deepStrictEqual(decodeControl(Buffer.from(JSON.stringify({ ...pong, counters: { ...good, writesByOp: tooMany } }))), pong);
    assert.deepStrictEqual(decodeControl(Buffer.from(JSON.stringify({ ...pong, counters: good }))), { ...pong, counters: good });
  });

  // The pinger and the control link act on what it returns: a message missing a field of
  // its type, or with one mistyped, must never reach them.
  it('refuses a message whose fields do not match its type', () => {
    assert.equal(decodeControl(Buffer.from('{"t":"promote"}')), null);
    assert.equal(decodeControl(Buffer.from('{"t":"promote","epoch":-1}')), null);
    assert.equal(decodeControl(Buffer.from('{"t":"hello","token":"x","pid":1.5,"role":"primary","epoch":1}')), null);
    assert.equal(decodeControl(Buffer.from('{"t":"pong","seq":1,"role":"boss","epoch":1,"commitSeq":0,"keys":0,"standby":"absent","synced":true}')), null);
    assert.equal(decodeControl(Buffer.from('[{"t":"stop"}]')), null);
    assert.equal(decodeControl(Buffer.from('{"t":"ping","seq":"x","epoch":null}')), null);
    assert.equal(decodeControl(Buffer.from('{"t":"no-such-message"}')), null);
  });
});
