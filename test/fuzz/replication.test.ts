// Frames between the servers (decodeLink: never throws, null for anything it does not
// know) and ring entry payloads (decodeRingPayload: throws an Error for anything malformed,
// which the standby treats like corruption). Valid encodings round-trip.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Entry,
  type LinkMessage,
  type RingPayload,
  decodeEntry,
  decodeLink,
  decodeRingPayload,
  encodeEntry,
  encodeLink,
  encodeSnapshotChunk,
} from '../../dist/protocol/replication.js';
import type { Json } from '../../dist/protocol/wire.js';
import { anyJsonValue, budget, fuzz, jsonBytes, mutated, randomBytes, thrownBy } from './harness.js';

const DOORBELL = 0x44;
const ACK = 0x41;
const HELLO = 0x48;
const ENTRY = 0x57;
const SNAP = 0x53;

function expectLinkWellFormed(m: LinkMessage | null): void {
  if (m === null) return;
  if (m.t === 'doorbell' || m.t === 'ack') assert.ok(Number.isSafeInteger(m.upTo) && m.upTo >= 0);
  else {
    assert.equal(m.t, 'hello');
    assert.ok(Number.isSafeInteger(m.pid) && m.pid > 0);
    assert.equal(typeof m.token, 'string');
  }
}

function decodeLinkChecked(b: Buffer): LinkMessage | null {
  let m: LinkMessage | null = null;
  assert.equal(thrownBy(() => (m = decodeLink(b))), undefined);
  expectLinkWellFormed(m);
  return m;
}

const linkMessage: fc.Arbitrary<LinkMessage> = fc.oneof(
  fc.record({ t: fc.constantFrom('doorbell' as const, 'ack' as const), upTo: fc.maxSafeNat() }),
  fc.record({ t: fc.constant('hello' as const), pid: fc.integer({ min: 1, max: 2 ** 22 }), token: fc.string({ maxLength: 64 }) }),
);

const helloLookalike = fc
  .record({ pid: anyJsonValue, token: anyJsonValue }, { requiredKeys: [] })
  .map((o) => jsonBytes(o, [HELLO]));

describe('decodeLink under fuzzing', () => {
  it('returns null or a well-formed message for random bytes', () => {
    fuzz('decodeLink', randomBytes([DOORBELL, ACK, HELLO], 24), budget(1000, 80_000), (b) => void decodeLinkChecked(b));
  });

  it('returns null or a well-formed message for 9-byte doorbells and acks with any number', () => {
    const frame = fc
      .tuple(fc.constantFrom(DOORBELL, ACK), fc.oneof(fc.double(), fc.maxSafeNat(), fc.integer()))
      .map(([t, v]) => {
        const b = Buffer.alloc(9);
        b[0] = t;
        b.writeDoubleLE(v, 1);
        return b;
      });
    fuzz('decodeLink', frame, budget(500, 40_000), (b) => void decodeLinkChecked(b));
  });

  it('returns null or a well-formed message for hellos with wrong types', () => {
    fuzz('decodeLink', helloLookalike, budget(500, 40_000), (b) => void decodeLinkChecked(b));
  });

  it('returns null or a well-formed message for damaged valid frames', () => {
    fuzz('decodeLink', mutated(linkMessage.map(encodeLink)), budget(500, 40_000), (b) => void decodeLinkChecked(b));
  });

  it('round-trips every valid message', () => {
    fuzz('decodeLink', linkMessage, budget(500, 20_000), (m) => assert.deepStrictEqual(decodeLinkChecked(encodeLink(m)), structuredClone(m)));
  });
});

const entry: fc.Arbitrary<Entry> = fc.record({
  seq: fc.maxSafeNat(),
  at: fc.oneof(fc.maxSafeNat(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  id: fc.string({ maxLength: 40 }),
  op: fc.string({ maxLength: 16 }),
  digest: fc.string({ maxLength: 16 }),
  args: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
});

type Payload = { kind: 'entry'; entry: Entry } | { kind: 'snapshot'; index: number; endOfPart: boolean; last: boolean; bytes: Uint8Array };

const ringPayload: fc.Arbitrary<Payload> = fc.oneof(
  fc.record({ kind: fc.constant('entry' as const), entry }),
  fc.record({ kind: fc.constant('snapshot' as const), index: fc.nat(0xffffffff), endOfPart: fc.boolean(), last: fc.boolean(), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

function encodePayload(p: Payload): Buffer {
  return p.kind === 'entry' ? encodeEntry(p.entry) : encodeSnapshotChunk(p.index, p.bytes, p.endOfPart, p.last);
}

/** What a payload reads back as: args go through JSON (-0 becomes 0), the bytes are a copy. */
function expected(p: Payload): unknown {
  if (p.kind === 'entry') return { kind: 'entry', entry: { ...p.entry, args: JSON.parse(JSON.stringify(p.entry.args)) as Json } };
  return { ...p, bytes: [...p.bytes] };
}

function comparable(p: RingPayload): unknown {
  return p.kind === 'entry' ? p : { ...p, bytes: [...p.bytes] };
}

/** The contract: a decoded payload of a known kind with its fields typed, or an Error (never a non-Error throw). */
function decodeRingChecked(b: Uint8Array): RingPayload | undefined {
  let p: RingPayload | undefined;
  const err = thrownBy(() => (p = decodeRingPayload(b)));
  if (err !== undefined) {
    assert.ok(err instanceof Error);
    return undefined;
  }
  const d = p as RingPayload;
  if (d.kind === 'entry') {
    const e = d.entry;
    assert.ok(Number.isSafeInteger(e.seq) && Number.isFinite(e.at));
    assert.ok(typeof e.id === 'string' && typeof e.op === 'string' && typeof e.digest === 'string' && e.args !== undefined);
  } else {
    assert.equal(d.kind, 'snapshot');
    assert.ok(Number.isInteger(d.index) && d.bytes instanceof Uint8Array);
  }
  return d;
}

describe('decodeRingPayload under fuzzing', () => {
  it('decodes or throws an Error for random bytes', () => {
    fuzz('decodeRingPayload', randomBytes([ENTRY, SNAP], 64), budget(1000, 80_000), (b) => void decodeRingChecked(b));
  });

  it('decodes or throws an Error for well-framed payloads whose JSON is anything', () => {
    const arb = fc
      .tuple(fc.constantFrom(ENTRY, SNAP), fc.uint8Array({ minLength: 16, maxLength: 16 }), anyJsonValue)
      .map(([t, head, v]) => jsonBytes(v, [t, ...(t === ENTRY ? head : head.subarray(0, 5))]));
    fuzz('decodeRingPayload', arb, budget(500, 40_000), (b) => void decodeRingChecked(b));
  });

  it('decodes or throws an Error for entry-shaped bodies with any field values', () => {
    const head = Buffer.alloc(16);
    head.writeDoubleLE(1, 0);
    head.writeDoubleLE(Date.now(), 8);
    const arb = fc
      .record({ i: anyJsonValue, o: anyJsonValue, d: anyJsonValue, a: anyJsonValue }, { requiredKeys: [] })
      .map((o) => jsonBytes(o, [ENTRY, ...head]));
    fuzz('decodeRingPayload', arb, budget(500, 40_000), (b) => void decodeRingChecked(b));
  });

  it('decodes or throws an Error for damaged valid payloads', () => {
    fuzz('decodeRingPayload', mutated(ringPayload.map(encodePayload)), budget(500, 50_000), (b) => void decodeRingChecked(b));
  });

  it('round-trips every valid payload, also from inside a larger buffer', () => {
    fuzz('decodeRingPayload', fc.tuple(ringPayload, fc.nat(16)), budget(500, 30_000), ([p, pad]) => {
      const enc = encodePayload(p);
      // The standby decodes views into the shm mapping, never whole buffers.
      const host = Buffer.alloc(enc.length + 2 * pad, 0xee);
      enc.copy(host, pad);
      const got = decodeRingChecked(host.subarray(pad, pad + enc.length));
      assert.ok(got !== undefined);
      assert.deepStrictEqual(comparable(got), expected(p));
    });
  });

  it('decodeEntry reads back what encodeEntry wrote', () => {
    fuzz('decodeRingPayload', entry, budget(500, 20_000), (e) => {
      const d = decodeEntry(encodeEntry(e));
      assert.deepStrictEqual(d, (expected({ kind: 'entry', entry: e }) as { entry: Entry }).entry);
    });
  });
});

describe('replication decoders: shapes they refuse', () => {
  // The primary records the pid of whoever says hello: it must be a process id.
  it('decodeLink refuses a hello whose pid is not a positive integer', () => {
    for (const pid of [1.5, -1, 0, 1e308, '7', null]) assert.equal(decodeLink(jsonBytes({ pid, token: 't' }, [HELLO])), null);
  });

  // A CRC-valid entry with a body that is not a command must never reach the service.
  it('decodeRingPayload refuses an entry whose body is not a command', () => {
    const head = Buffer.alloc(16);
    head.writeDoubleLE(1, 0);
    head.writeDoubleLE(1, 8);
    const bodies = ['null', '5', '[]', '"x"', '{"i":5,"o":"set","d":"x","a":{}}', '{"i":"x","o":"set","d":"x"}', '{"i":"x","o":7,"d":"x","a":1}', '{"i":"x","o":"set","d":null,"a":1}'];
    for (const body of bodies) {
      expect(() => decodeRingPayload(Buffer.concat([Buffer.from([ENTRY]), head, Buffer.from(body)]))).toThrow(Error);
    }
  });
});
