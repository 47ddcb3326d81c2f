// One fingerprint for a key-value state, however it was obtained (read back from a server,
// rebuilt from the journal): equal states, equal digests.
import crypto from 'node:crypto';

/** SHA-256 over the pairs in key order; absent keys (null values) are left out. */
export function stateDigest(pairs: Iterable<[string, string | null | undefined]>): string {
  const sorted = [...pairs].filter((p): p is [string, string] => typeof p[1] === 'string').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const h = crypto.createHash('sha256');
  for (const [k, v] of sorted) h.update(`${k.length}:${k}${v.length}:${v}`);
  return h.digest('hex').slice(0, 32);
}
