// The store's bytes: records packed into fixed pages, each addressed by one u32 "loc". A
// record too large for a page share (a big value) gets a buffer of its own, addressed by a
// handle in the upper half of the loc range. Freed bytes of a page are only counted; the
// store compacts (copies the live records into fresh pages) once they outweigh half the rest.

/** Locs at or above this are handles of big records. */
const BIG_BASE = 0x80000000;
/** A loc no record has: the store marks deleted entries with it. */
export const NO_LOC = 0xffffffff;
const MAX_BIG = NO_LOC - BIG_BASE;

export class Slab {
  private pages: Buffer[] = [];
  /** Next free byte of the last page. */
  private top: number;
  private readonly big: (Buffer | undefined)[] = [];
  private readonly freeHandles: number[] = [];
  private readonly offMask: number;
  private readonly maxPages: number;
  /** Records at most this long go into pages. */
  readonly smallMax: number;
  /** Bytes of pages holding no live record (freed records, page tails). */
  garbage = 0;
  /** Bytes of pages holding live records. */
  live = 0;
  /** Bytes of big records' buffers. */
  bigBytes = 0;

  constructor(private readonly pageBits: number) {
    const page = 2 ** pageBits;
    this.top = page;
    this.offMask = page - 1;
    this.maxPages = BIG_BASE / page;
    this.smallMax = page >>> 3;
  }

  get pageBytes(): number {
    return this.offMask + 1;
  }

  /** Bytes held: pages and big records. */
  get bytes(): number {
    return this.pages.length * this.pageBytes + this.bigBytes;
  }

  /** Bytes left at the top of the last page (a run that fits goes there, see place). */
  get pageRoom(): number {
    return this.pages.length === 0 ? 0 : this.pageBytes - this.top;
  }

  /** Whether `n` bytes would fit without compaction (the store checks before it changes anything). */
  fits(n: number): boolean {
    if (n > this.smallMax) return this.freeHandles.length > 0 || this.big.length < MAX_BIG;
    return (this.top + n <= this.pageBytes && this.top < this.pageBytes) || this.pages.length < this.maxPages;
  }

  /** Room for a record of `n` bytes: its loc. */
  alloc(n: number): number {
    if (n > this.smallMax) {
      const h = this.freeHandles.pop() ?? this.big.length;
      if (h >= MAX_BIG) throw new Error('the key-value store has no room for another large value');
      this.big[h] = Buffer.allocUnsafeSlow(n);
      this.bigBytes += n;
      return BIG_BASE + h;
    }
    return this.room(n);
  }

  /**
   * Copies `n` bytes of `src` from `from` into a page at once (n ≤ a page): records laid end to
   * end, each then addressed by its offset from the returned loc. One copy for many records.
   */
  place(src: Buffer, from: number, n: number): number {
    if (n > this.pageBytes) throw new Error(`a run of ${n} bytes is larger than a page`);
    const loc = this.room(n);
    src.copy(this.pages[this.pages.length - 1]!, loc & this.offMask, from, from + n);
    return loc;
  }

  /** `n` bytes (n ≤ a page) at the top of the last page, or of a new one. */
  private room(n: number): number {
    // (A page that is exactly full takes no more records, even empty ones.)
    if (this.top + n > this.pageBytes || this.top === this.pageBytes) {
      if (this.pages.length >= this.maxPages) throw new Error('the key-value store is full');
      if (this.pages.length > 0) this.garbage += this.pageBytes - this.top;
      this.pages.push(Buffer.allocUnsafeSlow(this.pageBytes));
      this.top = 0;
    }
    const loc = (this.pages.length - 1) * this.pageBytes + this.top;
    this.top += n;
    this.live += n;
    return loc;
  }

  /** The buffer a loc's bytes are in… */
  buf(loc: number): Buffer {
    return loc >= BIG_BASE ? this.big[loc - BIG_BASE]! : this.pages[loc >>> this.pageBits]!;
  }

  /** …and where in it they start. */
  off(loc: number): number {
    return loc >= BIG_BASE ? 0 : loc & this.offMask;
  }

  /** Whether a record of `n` bytes may be rewritten in place of the one of `had` bytes at `loc`. */
  canReuse(loc: number, had: number, n: number): boolean {
    if (loc < BIG_BASE) return n <= had;
    // A big buffer is kept for a value of about its size; a much smaller one moves.
    const cap = this.big[loc - BIG_BASE]!.length;
    return n > this.smallMax && n <= cap && n >= cap >>> 1;
  }

  /** The record at `loc` now holds `n` bytes instead of `had` (n ≤ had, rewritten in place). */
  shrunk(loc: number, had: number, n: number): void {
    if (loc >= BIG_BASE) return;
    this.garbage += had - n;
    this.live -= had - n;
  }

  /** The `n`-byte record at `loc` is gone. */
  free(loc: number, n: number): void {
    if (loc >= BIG_BASE) {
      const h = loc - BIG_BASE;
      this.bigBytes -= this.big[h]!.length;
      this.big[h] = undefined;
      this.freeHandles.push(h);
      return;
    }
    this.garbage += n;
    this.live -= n;
  }

  /** Whether freed bytes outweigh half the live ones (and a few pages): time to compact. */
  get wasteful(): boolean {
    return this.garbage > Math.max(this.live >>> 1, 4 * this.pageBytes);
  }

  /**
   * Copies every live record into fresh pages. `walk` calls `move(loc, n)` once for each live
   * record, which returns its new loc.
   */
  compact(walk: (move: (loc: number, n: number) => number) => void): void {
    const old = this.pages;
    const oldMask = this.offMask;
    const page = this.pageBytes;
    this.pages = [];
    this.top = page;
    this.garbage = 0;
    this.live = 0;
    walk((loc, n) => {
      if (loc >= BIG_BASE) return loc;
      const at = this.alloc(n);
      const from = loc & oldMask;
      old[loc >>> this.pageBits]!.copy(this.pages[this.pages.length - 1]!, at & this.offMask, from, from + n);
      return at;
    });
  }
}
