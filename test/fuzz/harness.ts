// How the decoder fuzz properties run: a CI-sized number of inputs by default, the full
// count under `npm run fuzz` (OSPS_FUZZ=full), each input bounded in time, and the count
// per decoder appended to OSPS_FUZZ_REPORT so the fuzz script can print the totals.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';

const FULL = process.env.OSPS_FUZZ === 'full';
/** No decoder may spend this long on one input: past it, it counts as a hang. */
export const MAX_MS_PER_INPUT = 1000;

/** Inputs per property: `ci` in `npm test`, `full` under `npm run fuzz`. */
export function budget(ci: number, full: number): number {
  return FULL ? full : ci;
}

function record(decoder: string, inputs: number, failures: number): void {
  const file = process.env.OSPS_FUZZ_REPORT;
  if (file) fs.appendFileSync(file, `${JSON.stringify({ decoder, inputs, failures })}\n`);
}

/**
 * Runs `check` on `runs` generated inputs; it throws on a broken property. An input that
 * takes longer than MAX_MS_PER_INPUT is a failure too. fast-check shrinks any failure to a
 * small counterexample and prints its seed, which reproduces it.
 */
export function fuzz<T>(decoder: string, arb: fc.Arbitrary<T>, runs: number, check: (input: T) => void): void {
  let inputs = 0;
  const prop = fc.property(arb, (input) => {
    inputs++;
    const t0 = performance.now();
    check(input);
    const ms = performance.now() - t0;
    if (ms > MAX_MS_PER_INPUT) throw new Error(`${decoder} took ${ms.toFixed(0)} ms on one input`);
  });
  const seed = process.env.OSPS_FUZZ_SEED ? Number(process.env.OSPS_FUZZ_SEED) : undefined;
  try {
    fc.assert(prop, { numRuns: runs, ...(seed !== undefined ? { seed } : {}) });
  } catch (err) {
    record(decoder, inputs, 1);
    throw err;
  }
  record(decoder, inputs, 0);
}

/** Calls fn and returns what it threw (undefined if nothing). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

type Mutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; v: number }
  | { k: 'cut'; at: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'delete'; at: number; n: number }
  | { k: 'dup'; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ k: fc.constant('set' as const), at: fc.nat(), v: fc.oneof(fc.constantFrom(0, 0xff, 0x22, 0x5c, 0x7b, 0x7d), fc.nat(255)) }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ k: fc.constant('dup' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);

function applyMutation(b: Buffer, m: Mutation): Buffer {
  if (b.length === 0) return m.k === 'insert' ? Buffer.from(m.bytes) : b;
  const at = m.at % b.length;
  switch (m.k) {
    case 'flip': {
      const c = Buffer.from(b);
      c[at] = (c[at] as number) ^ (1 << m.bit);
      return c;
    }
    case 'set': {
      const c = Buffer.from(b);
      c[at] = m.v;
      return c;
    }
    case 'cut':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
    case 'dup':
      return Buffer.concat([b.subarray(0, at + m.n), b.subarray(at)]);
  }
}

/** A valid encoding damaged by one to four byte-level edits. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Buffer> {
  return fc
    .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([v, ms]) => ms.reduce(applyMutation, Buffer.from(v)));
}

/** Random bytes, mostly short, sometimes with a chosen first byte (decoders switch on it). */
export function randomBytes(tags: readonly number[] = [], maxLength = 256): fc.Arbitrary<Buffer> {
  const raw = fc.uint8Array({ maxLength });
  const tagged = fc.tuple(fc.constantFrom(...(tags.length > 0 ? tags : [0])), raw).map(([t, r]) => Uint8Array.from([t, ...r]));
  return fc.oneof(raw, tagged).map((u) => Buffer.from(u));
}

/** Any JSON-ish value, including the awkward ones (`__proto__`, huge numbers, deep nesting). */
export const anyJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1e308, -0, '', '__proto__', [], {}),
  fc.string(),
  fc.double(),
  fc.integer(),
);

/** JSON text of `value` as a Buffer; undefined (not representable) becomes null. */
export function jsonBytes(value: unknown, prefix: readonly number[] = []): Buffer {
  return Buffer.concat([Buffer.from(prefix), Buffer.from(JSON.stringify(value) ?? 'null', 'utf8')]);
}
