import crypto from 'node:crypto';

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
  const h = crypto.createHash('sha1');
  const out = snapshot ? snapshot(state) : state;
  const parts = iterable(out);
  if (parts) {
    for (const p of parts) {
      if (p instanceof Uint8Array) h.update(p);
      else h.update(JSON.stringify(p ?? null) ?? 'null');
      h.update('\0');
    }
  } else {
    h.update(JSON.stringify(out ?? null) ?? 'null');
  }
  h.update('\0timers\0');
  h.update(JSON.stringify([...timers]));
  return h.digest('base64url').slice(0, 22);
}

function iterable(out: unknown): Iterable<unknown> | null {
  if (typeof out !== 'object' || out === null || Array.isArray(out) || out instanceof Uint8Array) return null;
  if (typeof (out as Iterator<unknown>).next === 'function') return { [Symbol.iterator]: () => out as Iterator<unknown> };
  return typeof (out as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function' ? (out as Iterable<unknown>) : null;
}
