import crypto from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A fingerprint of a request's content (op and arguments), kept with its reply in the dedup
 * window: a retry has the same one, another request reusing the id does not. 96 bits of
 * SHA-1: an accidental match is out of reach, and one-shot hashing costs about a microsecond.
 */
export function requestDigest(op: string, argsJson: string): string {
  return crypto.hash('sha1', `${op}\0${argsJson}`, 'base64url').slice(0, 16);
}

/**
 * A fingerprint of the service's state and its pending timers, taken through the service's
 * own `snapshot`: two copies at the same log position have the same one unless the service
 * is not deterministic.
 */
export function stateDigest(state: unknown, snapshot: ((s: unknown) => unknown) | undefined, timers: Iterable<unknown>): string {
  const h = new StateHash(snapshot ? snapshot(state) : state, timers);
  while (!h.step(Infinity));
  return h.digest();
}

/**
 * stateDigest in slices of about `sliceMs` each, yielding to the event loop between them, so
 * a large state never blocks pings. The snapshot is taken at the call: the caller holds
 * commands until the promise settles, so every slice sees the state of that commit point.
 */
export async function stateDigestInSlices(
  state: unknown,
  snapshot: ((s: unknown) => unknown) | undefined,
  timers: Iterable<unknown>,
  sliceMs: number,
  abandoned: () => boolean = () => false,
): Promise<string> {
  const h = new StateHash(snapshot ? snapshot(state) : state, timers);
  while (!h.step(sliceMs)) {
    await nextTurn();
    // The hold was let go (a promotion): the state may have moved on, this digest is void.
    if (abandoned()) {
      h.close();
      throw new DigestAbandoned();
    }
  }
  return h.digest();
}

export class DigestAbandoned extends Error {
  constructor() {
    super('digest abandoned');
    this.name = 'DigestAbandoned';
  }
}

/** The hashing of one state, a part at a time; the same bytes whether sliced or not. */
class StateHash {
  private readonly h = crypto.createHash('sha1');
  private readonly parts: Iterator<unknown> | null;
  /** Taken with the snapshot: the pending timers at the same commit point. */
  private readonly timers: string;

  constructor(out: unknown, timers: Iterable<unknown>) {
    this.timers = JSON.stringify([...timers]);
    this.parts = iterator(out);
    if (!this.parts) this.h.update(JSON.stringify(out ?? null) ?? 'null');
  }

  /** Hashes parts for about `ms`; true once every part is in. */
  step(ms: number): boolean {
    const it = this.parts;
    if (!it) return true;
    const until = ms === Infinity ? Infinity : performance.now() + ms;
    for (;;) {
      const n = it.next();
      if (n.done) return true;
      const p = n.value;
      if (p instanceof Uint8Array) this.h.update(p);
      else this.h.update(JSON.stringify(p ?? null) ?? 'null');
      this.h.update('\0');
      if (performance.now() >= until) return false;
    }
  }

  /** Lets go of the service's snapshot iterator early. */
  close(): void {
    this.parts?.return?.();
  }

  digest(): string {
    this.h.update('\0timers\0');
    this.h.update(this.timers);
    return this.h.digest('base64url').slice(0, 22);
  }
}

function iterator(out: unknown): Iterator<unknown> | null {
  if (typeof out !== 'object' || out === null || Array.isArray(out) || out instanceof Uint8Array) return null;
  if (typeof (out as Iterator<unknown>).next === 'function') return out as Iterator<unknown>;
  const it = (out as Partial<Iterable<unknown>>)[Symbol.iterator];
  return typeof it === 'function' ? (it.call(out) as Iterator<unknown>) : null;
}
