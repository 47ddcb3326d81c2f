/**
 * One process's handle on the osps shm object: header fields, counters and heartbeats.
 *
 * Cross-process visibility: the mapping is MAP_SHARED, every shared counter is read and
 * written with Atomics on aligned typed-array views (Atomics works on non-shared
 * ArrayBuffers too and compiles to real atomic instructions, so the payload bytes written
 * before `Atomics.store(head)` are visible to a reader that `Atomics.load`s head).
 */
import { OspsError } from '../../errors.js';
import { HEARTBEAT_SLOTS, type HeartbeatSlot } from '../shm-layout.js';
import {
  ACK_SEQ_IDX,
  APPLYING_IDX,
  COMMIT_SEQ_IDX,
  EPOCH_IDX,
  GEN_IDX,
  HEAD_IDX,
  HEARTBEAT_IDX,
  type HeaderInfo,
  TAIL_IDX,
  WRITE_SEQ_IDX,
  damagedIdentity,
  writeIdentity,
} from './header.js';
import { type Handle, type Mapping, liveMapping, releaseMapping } from './mapping.js';
import {
  type ReclaimResult,
  type ShmRingCreateOptions,
  attachObject,
  createObject,
  objectExists,
  reclaimObject,
  removeObject,
} from './open.js';

export function assertSafeCounter(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new OspsError('SHM_BAD_VALUE', `${what} must be a non-negative safe integer, got ${v}`);
}

// Lets RingWriter/RingReader reach a ring's mapping without making it public API.
let handleOf: (ring: ShmRing) => Handle;

/** The mapping behind a ring, for the writer and the reader only. */
export function ringHandle(ring: ShmRing): Handle {
  return handleOf(ring);
}

/** One process's handle on the osps shm object: header fields, counters and heartbeats. */
export class ShmRing {
  /** POSIX shm name, e.g. "/osps-default-ab12". */
  readonly name: string;
  /** Instance name from the header. */
  readonly instance: string;
  /** Data bytes in the ring. */
  readonly capacity: number;
  /** Pid that created the object (as recorded in the header). */
  readonly creatorPid: number;
  readonly #h: Handle;

  static {
    handleOf = (ring) => ring.#h;
  }

  private constructor(name: string, m: Mapping, info: HeaderInfo) {
    this.name = name;
    this.instance = info.instance;
    this.capacity = info.capacity;
    this.creatorPid = info.creatorPid;
    this.#h = { m, detached: false };
  }

  /**
   * Creates the object exclusively (O_EXCL) with mode 0600 and writes the header.
   * Throws OspsError SHM_EXISTS if the name is taken by us (reclaim() a stale one first),
   * SHM_FOREIGN if another user owns what is at the name.
   */
  static create(opts: ShmRingCreateOptions): ShmRing {
    const { m, info } = createObject(opts);
    return new ShmRing(opts.shmName, m, info);
  }

  /**
   * Maps an existing object after checking owner/mode, size and header.
   * Throws OspsError SHM_MISSING / SHM_FOREIGN / SHM_BAD_MODE, or RingCorruptError 'magic' | 'version' | 'bounds'.
   */
  static attach(shmName: string): ShmRing {
    const { m, info } = attachObject(shmName);
    return new ShmRing(shmName, m, info);
  }

  /**
   * Header identity fields (magic, version, geometry, instance) that no longer match what
   * this handle attached to: a later attach() would refuse the object. Empty when intact.
   */
  damagedHeader(): string[] {
    return damagedIdentity(liveMapping(this.#h, this.name), this.capacity, Buffer.from(this.instance, 'utf8'));
  }

  /** Rewrites damaged identity fields from what this handle knows; returns the ones it rewrote. */
  repairHeader(): string[] {
    const m = liveMapping(this.#h, this.name);
    const instance = Buffer.from(this.instance, 'utf8');
    const bad = damagedIdentity(m, this.capacity, instance);
    if (bad.length > 0) writeIdentity(m, this.capacity, instance, bad);
    return bad;
  }

  static exists(shmName: string): boolean {
    return objectExists(shmName);
  }

  /**
   * Unlinks the object; false if it was absent or is another user's (left alone). Every handle on it in this process
   * becomes unusable (its mapping is gone); other processes keep theirs until they detach.
   */
  static destroy(shmName: string): boolean {
    return removeObject(shmName);
  }

  /**
   * Removes an object left behind by a crashed process. If its header names a creator that
   * is still alive (same pid and start time, not a zombie) and is not this process, refuses
   * with OspsError SHM_IN_USE unless `force`. An unparseable object is removed as stale.
   * Another user's object is never removed, even with `force`: OspsError SHM_FOREIGN.
   */
  static reclaim(shmName: string, opts: { force?: boolean } = {}): ReclaimResult {
    return reclaimObject(shmName, opts);
  }

  /** Fencing token. Atomics: a stale primary re-reads it before acknowledging. */
  get epoch(): number {
    return Atomics.load(this.#live().i32, EPOCH_IDX);
  }

  set epoch(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new OspsError('SHM_BAD_VALUE', `epoch must be an int32 >= 0, got ${v}`);
    Atomics.store(this.#live().i32, EPOCH_IDX, v);
  }

  /** Bumped by every RingWriter.reset(); a reader from an older generation is stale. */
  get generation(): number {
    return Atomics.load(this.#live().i32, GEN_IDX);
  }

  get writeSeq(): number {
    return Number(Atomics.load(this.#live().i64, WRITE_SEQ_IDX));
  }

  set writeSeq(v: number) {
    assertSafeCounter('writeSeq', v);
    Atomics.store(this.#live().i64, WRITE_SEQ_IDX, BigInt(v));
  }

  get commitSeq(): number {
    return Number(Atomics.load(this.#live().i64, COMMIT_SEQ_IDX));
  }

  set commitSeq(v: number) {
    assertSafeCounter('commitSeq', v);
    Atomics.store(this.#live().i64, COMMIT_SEQ_IDX, BigInt(v));
  }

  get ackSeq(): number {
    return Number(Atomics.load(this.#live().i64, ACK_SEQ_IDX));
  }

  set ackSeq(v: number) {
    assertSafeCounter('ackSeq', v);
    Atomics.store(this.#live().i64, ACK_SEQ_IDX, BigInt(v));
  }

  /**
   * Where the primary is in a batch it applies: a token naming the batch (its quarantine
   * note says which) and 1 + the index of the command being applied. Outlives the process.
   */
  get applying(): { batch: number; index: number } {
    const i32 = this.#live().i32;
    return { batch: Atomics.load(i32, APPLYING_IDX), index: Atomics.load(i32, APPLYING_IDX + 1) };
  }

  setApplying(batch: number, index: number): void {
    const i32 = this.#live().i32;
    Atomics.store(i32, APPLYING_IDX, batch);
    Atomics.store(i32, APPLYING_IDX + 1, index);
  }

  /** Writer's published byte position (mod 2^32), for status and diagnostics. */
  get head(): number {
    return Atomics.load(this.#live().u32, HEAD_IDX);
  }

  /** Reader's released byte position (mod 2^32), for status and diagnostics. */
  get tail(): number {
    return Atomics.load(this.#live().u32, TAIL_IDX);
  }

  /** With `ms`: stores that timestamp (truncated to an integer) in the slot. Returns the slot's value. */
  heartbeat(slot: HeartbeatSlot, ms?: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= HEARTBEAT_SLOTS) {
      throw new OspsError('SHM_BAD_VALUE', `heartbeat slot must be 0..${HEARTBEAT_SLOTS - 1}, got ${slot}`);
    }
    const i64 = this.#live().i64;
    if (ms === undefined) return Number(Atomics.load(i64, HEARTBEAT_IDX + slot));
    const v = Math.trunc(ms);
    assertSafeCounter('heartbeat', v);
    Atomics.store(i64, HEARTBEAT_IDX + slot, BigInt(v));
    return v;
  }

  /**
   * The whole object (header + ring) as one Buffer, for chaos tooling and tests.
   * Writes here bypass every invariant; the view dies with detach()/destroy().
   */
  get rawBuffer(): Buffer {
    return this.#live().buf;
  }

  /** True until detach() or destroy(): afterwards every accessor throws SHM_DETACHED. */
  get attached(): boolean {
    return !this.#h.detached && !this.#h.m.dead;
  }

  /**
   * Drops this handle; the mapping is unmapped when the last handle of this process on
   * the object detaches. Idempotent. Payload views handed out by a RingReader on this
   * ring must not be touched afterwards.
   */
  detach(): void {
    const h = this.#h;
    if (h.detached) return;
    h.detached = true;
    releaseMapping(h.m);
  }

  #live(): Mapping {
    return liveMapping(this.#h, this.name);
  }
}
