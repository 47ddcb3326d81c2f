// A small seeded PRNG (mulberry32). It is part of the service contract: `ctx.random()` draws
// from it, seeded per entry, so the primary, the standby and a replay of the journal (written
// by any earlier version) see the same sequence. Never change it. The chaos run uses it too,
// so a seed replays the same faults.

/** The same seed gives the same sequence, on every copy and in every version. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
