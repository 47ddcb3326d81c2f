import crypto from 'node:crypto';

/**
 * A fingerprint of a request's content (op and arguments), kept with its reply in the dedup
 * window: a retry has the same one, another request reusing the id does not. 96 bits of
 * SHA-1: an accidental match is out of reach, and one-shot hashing costs about a microsecond.
 */
export function requestDigest(op: string, argsJson: string): string {
  return crypto.hash('sha1', `${op}\0${argsJson}`, 'base64url').slice(0, 16);
}
