// Builds the store's open-addressing index from its entry table in one go. Inserting a
// million keys one by one costs a cache miss or two each wherever its slot falls (measured
// here: two thirds of a restore). Here the entries are first sorted by the region of the
// index their home slot is in (a counting sort), so each region's slots, and the hashes kept
// beside them while it is built, stay in cache while it fills.

/** Regions of the index the entries are sorted into: 2^REGION_BITS at most. */
const REGION_BITS = 11;

/** The entry table as the index reads it: four u32 per entry, its loc and its key's hash among them. */
export interface EntryTable {
  ent: Uint32Array;
  /** Entries [0, end) are in the table; a loc of `noLoc` marks a deleted one. */
  end: number;
  locField: number;
  hashField: number;
  noLoc: number;
}

/**
 * Slots for every entry of `t` in an index of `cap` slots (a power of two): slot = entry + 1,
 * 0 empty, linear probing from `hash & (cap - 1)`. Entries go in in entry order within each
 * region, so for two entries of the same key (`sameKey`, asked only when their hashes are
 * equal) the earlier one takes the slot and `twice(earlier, later)` is called for the later,
 * which gets none; without `sameKey`, every key is taken to be held once.
 */
export function buildIndex(t: EntryTable, cap: number, sameKey?: (a: number, b: number) => boolean, twice?: (earlier: number, later: number) => void): Uint32Array<ArrayBuffer> {
  const { ent, end, locField, hashField, noLoc } = t;
  const mask = cap - 1;
  const shift = Math.max(0, 31 - Math.clz32(cap) - REGION_BITS);
  const counts = new Uint32Array((cap >>> shift) + 1);
  let n = 0;
  for (let e = 0; e < end; e++) {
    const b = e << 2;
    if (ent[b + locField] === noLoc) continue;
    counts[((ent[b + hashField]! & mask) >>> shift) + 1]!++;
    n++;
  }
  for (let r = 1; r < counts.length; r++) counts[r]! += counts[r - 1]!;
  // Entry and hash side by side, by region: read in order below, never from the table again.
  const sorted = new Uint32Array(2 * n);
  for (let e = 0; e < end; e++) {
    const b = e << 2;
    if (ent[b + locField] === noLoc) continue;
    const h = ent[b + hashField]!;
    const at = 2 * counts[(h & mask) >>> shift]!++;
    sorted[at] = e;
    sorted[at + 1] = h;
  }
  const slots = new Uint32Array(cap);
  // The hash of each slot's entry while the index is built, to tell keys apart without the table.
  const hashes = sameKey ? new Uint32Array(cap) : null;
  for (let i = 0; i < 2 * n; i += 2) {
    const e = sorted[i]!;
    const h = sorted[i + 1]!;
    let s = h & mask;
    let held = -1;
    for (let x = slots[s]!; x !== 0; x = slots[s]!) {
      if (hashes !== null && hashes[s] === h && sameKey!(x - 1, e)) {
        held = x - 1;
        break;
      }
      s = (s + 1) & mask;
    }
    if (held >= 0) {
      twice?.(held, e);
      continue;
    }
    slots[s] = e + 1;
    if (hashes !== null) hashes[s] = h;
  }
  return slots;
}
