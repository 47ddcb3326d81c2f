/**
 * The replication ring: a POSIX shm object (layout in shm-layout.ts) carrying CRC-checked
 * entries from ONE writer process (the primary) to ONE reader process (the standby).
 *
 * This module owns the memory, the head/tail counters and the integrity checks; doorbells
 * ("published up to seq N") and acks ("applied up to N") travel on FIFOs elsewhere.
 * Cross-process visibility: the mapping is MAP_SHARED, every shared counter is read and
 * written with Atomics on aligned typed-array views (Atomics works on non-shared
 * ArrayBuffers too and compiles to real atomic instructions, so the payload bytes written
 * before `Atomics.store(head)` are visible to a reader that `Atomics.load`s head).
 */
import fs from 'node:fs';
import os from 'node:os';
import shm from 'shm-typed-array';
import { OspsError, RingCorruptError, isErrnoException } from '../errors.js';
import { crc32Range } from './crc32.js';
import { isSameProcess, processStartTime } from '../runtime/proc.js';
import {
  DATA_OFFSET,
  DEFAULT_CAPACITY,
  ENTRY_HEADER_BYTES,
  ENTRY_MARKER,
  Ent,
  HEADER_BYTES,
  HEARTBEAT_SLOTS,
  Hdr,
  HeartbeatSlot,
  LAYOUT_VERSION,
  LIB_PREFIX_BYTES,
  MAX_CAPACITY,
  MAX_INSTANCE_BYTES,
  MIN_CAPACITY,
  SHM_MAGIC,
  WRAP_MARKER,
  entryBytes,
  isValidCapacity,
  maxPayloadFor,
  objectBytes,
  shmPath,
} from './shm-layout.js';

export { HeartbeatSlot } from './shm-layout.js';

// Typed-array indexes of the live header words (byte offset / element size).
const HEAD_IDX = Hdr.HEAD >> 2;
const TAIL_IDX = Hdr.TAIL >> 2;
const EPOCH_IDX = Hdr.EPOCH >> 2;
const GEN_IDX = Hdr.GENERATION >> 2;
const WRITE_SEQ_IDX = Hdr.WRITE_SEQ >> 3;
const COMMIT_SEQ_IDX = Hdr.COMMIT_SEQ >> 3;
const ACK_SEQ_IDX = Hdr.ACK_SEQ >> 3;
const HEARTBEAT_IDX = Hdr.HEARTBEATS >> 3;

/** Fallback re-check period of waitForSpace: a lost notify() costs at most this much latency. */
const SPACE_POLL_MS = 2;
/** POSIX names: one leading slash, no other, NAME_MAX 255. */
const SHM_NAME_RE = /^\/[^/\0]{1,254}$/;

// ---------------------------------------------------------------------------------------
// Mappings. shm-typed-array keeps ONE bookkeeping record per object name per process and
// never updates it when the same name is mapped again: a second mapping of a name would be
// unmapped by nobody, and a garbage-collected Buffer's free callback unmaps whatever that
// record points at (possibly another live mapping -> SIGSEGV). So this module maps each
// object at most once per process, shares the mapping between handles (refcounted), keeps
// every Buffer it cannot safely unmap reachable forever, and marks mappings dead before the
// library unmaps them so later use throws instead of crashing.
// ---------------------------------------------------------------------------------------

interface Mapping {
  readonly name: string;
  readonly ino: number;
  readonly buf: Buffer;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;
  refs: number;
  /** The library's record for this name points at this mapping, so its detach unmaps exactly it. */
  tracked: boolean;
  /** Unmapped (or its object destroyed): every accessor must throw, never touch memory. */
  dead: boolean;
}

const liveMappings = new Map<string, Set<Mapping>>();
/** Names the library holds a record for: 'tracking' = record points at a live mapping; 'stale' = record kept after an unmap. */
const libRecords = new Map<string, 'tracking' | 'stale'>();
/** Buffers whose GC would run the library's free callback against another mapping: never released. */
const pinned: Buffer[] = [];

function newMapping(name: string, ino: number, buf: Buffer): Mapping {
  // Atomics on BigInt64Array needs 8-byte alignment; the library maps at page + 8.
  if ((buf.byteOffset & 7) !== 0 || (buf.length & 7) !== 0) {
    throw new OspsError('SHM_BAD_OBJECT', `${name}: mapping is not 8-byte aligned`, { name });
  }
  const tracked = !libRecords.has(name);
  if (tracked) libRecords.set(name, 'tracking');
  else pinned.push(buf);
  const ab = buf.buffer;
  const off = buf.byteOffset;
  const len = buf.length;
  const m: Mapping = {
    name,
    ino,
    buf,
    // Plain Uint8Array: its subarray() is cheaper than Buffer's on the per-entry path.
    u8: new Uint8Array(ab, off, len),
    u32: new Uint32Array(ab, off, len >>> 2),
    i32: new Int32Array(ab, off, len >>> 2),
    i64: new BigInt64Array(ab, off, len >>> 3),
    f64: new Float64Array(ab, off, len >>> 3),
    refs: 1,
    tracked,
    dead: false,
  };
  let set = liveMappings.get(name);
  if (!set) liveMappings.set(name, (set = new Set()));
  set.add(m);
  return m;
}

function reuseMapping(name: string, ino: number): Mapping | null {
  for (const m of liveMappings.get(name) ?? []) {
    if (!m.dead && m.ino === ino) {
      m.refs++;
      return m;
    }
  }
  return null;
}

function releaseMapping(m: Mapping): void {
  if (m.dead || --m.refs > 0) return;
  m.dead = true;
  liveMappings.get(m.name)?.delete(m);
  if (liveMappings.get(m.name)?.size === 0) liveMappings.delete(m.name);
  if (m.tracked) {
    shm.detach(m.name, false);
    libRecords.set(m.name, 'stale');
  }
  // An untracked mapping cannot be unmapped through the library: it stays pinned until exit.
}

function destroyObject(name: string): boolean {
  // Mark first: the library unmaps the tracked mapping as part of the unlink.
  for (const m of liveMappings.get(name) ?? []) m.dead = true;
  liveMappings.delete(name);
  let removed: boolean;
  try {
    removed = shm.destroy(name);
  } catch (err) {
    throw new OspsError('SHM_DESTROY_FAILED', `cannot remove shm object ${name}: ${(err as Error).message}`, { name });
  }
  // Unlinked -> the library cleared its record; not found -> it only unmapped and kept the record.
  if (removed) libRecords.delete(name);
  else if (libRecords.has(name)) libRecords.set(name, 'stale');
  return removed;
}

// ---------------------------------------------------------------------------------------
// Header inspection through /dev/shm: validates an object before it is mapped, so a
// truncated or lying object can never be mapped past its end (SIGBUS), and reclaim can read
// a stale object's creator without creating a library record.
// ---------------------------------------------------------------------------------------

interface HeaderInfo {
  capacity: number;
  creatorPid: number;
  creatorStart: number;
  instance: string;
}

interface ObjectInfo extends HeaderInfo {
  ino: number;
}

function assertName(shmName: string): void {
  if (typeof shmName !== 'string' || !SHM_NAME_RE.test(shmName)) {
    throw new OspsError('SHM_BAD_NAME', `invalid shm name ${JSON.stringify(shmName)}: want "/" + 1..254 chars without "/"`, {
      shmName,
    });
  }
}

function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return null;
    throw err;
  }
}

/** The header fields that never change after creation and that attach() checks. */
const IDENTITY_FIELDS = ['version', 'header size', 'capacity', 'instance', 'magic'] as const;
type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** Identity fields of the header that differ from what they were created as. */
function damagedIdentity(m: Mapping, capacity: number, instance: Buffer): IdentityField[] {
  const hv = new DataView(m.buf.buffer, m.buf.byteOffset, HEADER_BYTES);
  const le = os.endianness() === 'LE';
  const bad: IdentityField[] = [];
  if (hv.getUint32(Hdr.VERSION, le) !== LAYOUT_VERSION) bad.push('version');
  if (hv.getUint32(Hdr.HEADER_SIZE, le) !== HEADER_BYTES) bad.push('header size');
  if (hv.getUint32(Hdr.CAPACITY, le) !== capacity) bad.push('capacity');
  const len = hv.getUint16(Hdr.INSTANCE_LEN, le);
  if (len !== instance.length || !m.buf.subarray(Hdr.INSTANCE, Hdr.INSTANCE + len).equals(instance)) bad.push('instance');
  if (Atomics.load(m.u32, Hdr.MAGIC >> 2) !== SHM_MAGIC) bad.push('magic');
  return bad;
}

/** Writes the given identity fields; the magic, if among them, last. */
function writeIdentity(m: Mapping, capacity: number, instance: Buffer, fields: readonly IdentityField[]): void {
  const hv = new DataView(m.buf.buffer, m.buf.byteOffset, HEADER_BYTES);
  const le = os.endianness() === 'LE';
  if (fields.includes('version')) hv.setUint32(Hdr.VERSION, LAYOUT_VERSION, le);
  if (fields.includes('header size')) hv.setUint32(Hdr.HEADER_SIZE, HEADER_BYTES, le);
  if (fields.includes('capacity')) hv.setUint32(Hdr.CAPACITY, capacity, le);
  if (fields.includes('instance')) {
    hv.setUint16(Hdr.INSTANCE_LEN, instance.length, le);
    m.buf.fill(0, Hdr.INSTANCE, Hdr.INSTANCE + MAX_INSTANCE_BYTES);
    m.buf.set(instance, Hdr.INSTANCE);
  }
  if (fields.includes('magic')) Atomics.store(m.u32, Hdr.MAGIC >> 2, SHM_MAGIC);
}

/** Checks magic, version and geometry of a header; `objectLen` is the object's Buffer length. */
function parseHeader(name: string, h: Uint8Array, objectLen: number): HeaderInfo {
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const le = os.endianness() === 'LE';
  const magic = dv.getUint32(Hdr.MAGIC, le);
  if (magic !== SHM_MAGIC) {
    throw new RingCorruptError('magic', `${name}: bad header magic 0x${magic.toString(16)}`, { name, magic });
  }
  const version = dv.getUint32(Hdr.VERSION, le);
  if (version !== LAYOUT_VERSION) {
    throw new RingCorruptError('version', `${name}: layout version ${version}, this build speaks ${LAYOUT_VERSION}`, {
      name,
      version,
    });
  }
  const headerSize = dv.getUint32(Hdr.HEADER_SIZE, le);
  const capacity = dv.getUint32(Hdr.CAPACITY, le);
  if (headerSize !== HEADER_BYTES || !isValidCapacity(capacity) || objectLen !== objectBytes(capacity)) {
    throw new RingCorruptError('bounds', `${name}: header geometry does not match the object`, {
      name,
      headerSize,
      capacity,
      objectLen,
    });
  }
  const nameLen = dv.getUint16(Hdr.INSTANCE_LEN, le);
  if (nameLen > MAX_INSTANCE_BYTES) {
    throw new RingCorruptError('bounds', `${name}: instance name length ${nameLen} > ${MAX_INSTANCE_BYTES}`, { name });
  }
  return {
    capacity,
    creatorPid: dv.getInt32(Hdr.CREATOR_PID, le),
    creatorStart: dv.getFloat64(Hdr.CREATOR_START, le),
    instance: Buffer.from(h.buffer, h.byteOffset + Hdr.INSTANCE, nameLen).toString('utf8'),
  };
}

function inspectObject(name: string, opts: { checkOwner: boolean }): ObjectInfo {
  const path = shmPath(name);
  let fd: number;
  try {
    // O_NOFOLLOW: /dev/shm is world-writable; a planted symlink must not be followed.
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') throw new OspsError('SHM_MISSING', `shm object ${name} does not exist`, { name });
    if (isErrnoException(err) && err.code === 'ELOOP') throw new OspsError('SHM_BAD_OBJECT', `${path} is a symlink`, { name });
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new OspsError('SHM_BAD_OBJECT', `${path} is not a shm object`, { name });
    if (opts.checkOwner) {
      const uid = process.getuid?.();
      if ((uid !== undefined && st.uid !== uid) || (st.mode & 0o777) !== 0o600) {
        throw new OspsError('SHM_BAD_MODE', `${path} must be owned by us with mode 0600 (uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)})`, {
          name,
          uid: st.uid,
          mode: st.mode & 0o7777,
        });
      }
    }
    const b = Buffer.alloc(LIB_PREFIX_BYTES + HEADER_BYTES);
    const n = fs.readSync(fd, b, 0, b.length, 0);
    if (n < b.length) throw new RingCorruptError('bounds', `${name}: object is ${st.size} bytes, smaller than a header`, { name });
    const prefix = Number(os.endianness() === 'LE' ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0));
    // The library maps `prefix` bytes from its own size word: it must match the real size.
    if (prefix + LIB_PREFIX_BYTES !== st.size) {
      throw new RingCorruptError('bounds', `${name}: size word ${prefix} does not match object size ${st.size}`, { name });
    }
    return { ...parseHeader(name, b.subarray(LIB_PREFIX_BYTES), prefix), ino: st.ino };
  } finally {
    fs.closeSync(fd);
  }
}

function assertSafeCounter(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new OspsError('SHM_BAD_VALUE', `${what} must be a non-negative safe integer, got ${v}`);
}

// ---------------------------------------------------------------------------------------

export interface ShmRingCreateOptions {
  /** POSIX shm name: "/" + 1..254 characters, no other "/". */
  shmName: string;
  /** Instance name recorded in the header (<= 200 bytes UTF-8). */
  instance: string;
  /** Data bytes: power of two in [4096, 1 GiB]; default 16 MiB. Below 4 MiB, 1 MiB entries do not fit. */
  capacityBytes?: number;
}

export interface ReclaimResult {
  reclaimed: boolean;
  creatorPid?: number;
  creatorAlive?: boolean;
}

interface Handle {
  readonly m: Mapping;
  detached: boolean;
}

function detachedError(name: string): OspsError {
  return new OspsError('SHM_DETACHED', `shm ring ${name} is no longer mapped in this process (detach() or destroy() was called)`, {
    name,
  });
}

function liveMapping(h: Handle, name: string): Mapping {
  if (h.detached || h.m.dead) throw detachedError(name);
  return h.m;
}

// Lets RingWriter/RingReader reach a ring's mapping without making it public API.
let handleOf: (ring: ShmRing) => Handle;

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
   * Throws OspsError SHM_EXISTS if the name is taken (reclaim() a stale one first).
   */
  static create(opts: ShmRingCreateOptions): ShmRing {
    const name = opts.shmName;
    assertName(name);
    const capacity = opts.capacityBytes ?? DEFAULT_CAPACITY;
    if (!isValidCapacity(capacity)) {
      throw new OspsError(
        'SHM_BAD_CAPACITY',
        `ring capacity must be a power of two in [${MIN_CAPACITY}, ${MAX_CAPACITY}], got ${capacity}`,
        { capacity },
      );
    }
    const instanceBytes = Buffer.from(opts.instance, 'utf8');
    if (instanceBytes.length > MAX_INSTANCE_BYTES) {
      throw new OspsError('SHM_BAD_INSTANCE', `instance name is ${instanceBytes.length} bytes UTF-8; at most ${MAX_INSTANCE_BYTES}`);
    }
    let buf: Buffer | null;
    try {
      buf = shm.create(objectBytes(capacity), 'Buffer', name, '600');
    } catch (err) {
      throw new OspsError('SHM_CREATE_FAILED', `cannot create shm object ${name}: ${(err as Error).message}`, { name });
    }
    if (!buf) throw new OspsError('SHM_EXISTS', `shm object ${name} already exists`, { name });
    const path = shmPath(name);
    let st = fs.statSync(path);
    const m = newMapping(name, st.ino, buf);
    try {
      // shm_open applies the umask: put back exactly 0600, then verify rather than trust.
      if ((st.mode & 0o777) !== 0o600) {
        fs.chmodSync(path, 0o600);
        st = fs.statSync(path);
      }
      if ((st.mode & 0o777) !== 0o600) {
        throw new OspsError('SHM_BAD_MODE', `${path} has mode ${(st.mode & 0o777).toString(8)} after creation, want 600`, { name });
      }
    } catch (err) {
      destroyObject(name);
      throw err;
    }
    // ftruncate zero-filled the object: only non-zero fields need writing.
    const hv = new DataView(buf.buffer, buf.byteOffset, HEADER_BYTES);
    const le = os.endianness() === 'LE';
    hv.setInt32(Hdr.CREATOR_PID, process.pid, le);
    hv.setFloat64(Hdr.CREATOR_START, processStartTime(process.pid) ?? 0, le);
    hv.setFloat64(Hdr.CREATED_AT, Date.now(), le);
    // Magic last: an attach racing with creation sees "not an osps object", never half a header.
    writeIdentity(m, capacity, instanceBytes, IDENTITY_FIELDS);
    return new ShmRing(name, m, { capacity, creatorPid: process.pid, creatorStart: 0, instance: opts.instance });
  }

  /**
   * Maps an existing object after checking owner/mode, size and header.
   * Throws OspsError SHM_MISSING / SHM_BAD_MODE, or RingCorruptError 'magic' | 'version' | 'bounds'.
   */
  static attach(shmName: string): ShmRing {
    assertName(shmName);
    const info = inspectObject(shmName, { checkOwner: true });
    let m = reuseMapping(shmName, info.ino);
    if (!m) {
      let buf: Buffer | null;
      try {
        buf = shm.get(shmName, 'Buffer');
      } catch (err) {
        throw new OspsError('SHM_ATTACH_FAILED', `cannot map shm object ${shmName}: ${(err as Error).message}`, { name: shmName });
      }
      if (!buf) throw new OspsError('SHM_MISSING', `shm object ${shmName} does not exist`, { name: shmName });
      m = newMapping(shmName, info.ino, buf);
    }
    try {
      // The file read and the mapping could be different objects if it was replaced in between.
      parseHeader(shmName, m.u8.subarray(0, HEADER_BYTES), m.buf.length);
    } catch (err) {
      releaseMapping(m);
      throw err;
    }
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
    assertName(shmName);
    return lstatOrNull(shmPath(shmName)) !== null;
  }

  /**
   * Unlinks the object; false if it was absent. Every handle on it in this process
   * becomes unusable (its mapping is gone); other processes keep theirs until they detach.
   */
  static destroy(shmName: string): boolean {
    assertName(shmName);
    return destroyObject(shmName);
  }

  /**
   * Removes an object left behind by a crashed process. If its header names a creator that
   * is still alive (same pid and start time, not a zombie) and is not this process, refuses
   * with OspsError SHM_IN_USE unless `force`. An unparseable object is removed as stale.
   */
  static reclaim(shmName: string, opts: { force?: boolean } = {}): ReclaimResult {
    assertName(shmName);
    if (!lstatOrNull(shmPath(shmName))) return { reclaimed: false };
    let creator: { pid: number; start: number } | null = null;
    try {
      const info = inspectObject(shmName, { checkOwner: false });
      if (info.creatorPid > 0) creator = { pid: info.creatorPid, start: info.creatorStart };
    } catch {
      // A crash mid-create or foreign garbage: no creator to protect.
    }
    if (!creator) return { reclaimed: destroyObject(shmName) };
    const creatorAlive = isSameProcess(creator.pid, creator.start > 0 ? creator.start : null);
    if (creatorAlive && creator.pid !== process.pid && !opts.force) {
      throw new OspsError('SHM_IN_USE', `shm object ${shmName} belongs to live process ${creator.pid}`, {
        name: shmName,
        creatorPid: creator.pid,
      });
    }
    return { reclaimed: destroyObject(shmName), creatorPid: creator.pid, creatorAlive };
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

// ---------------------------------------------------------------------------------------

interface SpaceWaiter {
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * The single writer (the primary). Appends write entries without publishing them; one
 * publish() per batch stores head once (group commit). Never overwrites bytes the reader
 * has not released: a full ring returns false from tryAppend (backpressure).
 */
export class RingWriter {
  /** Largest payload tryAppend accepts (capacity / 2 - entry header). */
  readonly maxPayload: number;
  private readonly ring: ShmRing;
  private readonly h: Handle;
  private readonly cap: number;
  private readonly mask: number;
  /** Position after the last appended (maybe unpublished) entry; only this object moves head. */
  private pos: number;
  private wraps = 0;
  private readonly waiters = new Set<SpaceWaiter>();
  private timer: NodeJS.Timeout | null = null;

  constructor(ring: ShmRing) {
    this.ring = ring;
    this.h = handleOf(ring);
    const m = liveMapping(this.h, ring.name);
    this.cap = ring.capacity;
    this.mask = ring.capacity - 1;
    this.maxPayload = maxPayloadFor(ring.capacity);
    this.pos = Atomics.load(m.u32, HEAD_IDX);
  }

  /** Bytes an entry with this payload occupies (header + payload + pad to 8). */
  entryBytes(payloadLen: number): number {
    return entryBytes(payloadLen);
  }

  /** How many WRAP markers this writer has written (i.e. times it went back to offset 0). */
  get wrapCount(): number {
    return this.wraps;
  }

  /** Free bytes: capacity minus everything appended (published or not) and not yet released. */
  freeBytes(): number {
    return this.cap - this.used(liveMapping(this.h, this.ring.name));
  }

  /**
   * Copies one entry into the ring; invisible to the reader until publish(). False when it
   * does not fit now (the caller waits for space); throws ENTRY_TOO_LARGE when it never can.
   */
  tryAppend(payload: Uint8Array, seq: number, epoch: number): boolean {
    const m = liveMapping(this.h, this.ring.name);
    const len = payload.byteLength;
    if (len > this.maxPayload) {
      throw new OspsError('ENTRY_TOO_LARGE', `entry payload of ${len} bytes exceeds the ring's maximum of ${this.maxPayload}`, {
        len,
        max: this.maxPayload,
      });
    }
    if (!Number.isSafeInteger(seq)) throw new OspsError('SHM_BAD_VALUE', `entry seq must be a safe integer, got ${seq}`);
    const size = entryBytes(len);
    const free = this.cap - this.used(m);
    let off = this.pos & this.mask;
    const toEnd = this.cap - off;
    if (size > toEnd) {
      // An entry never straddles the end: skip the rest (accounted as used) and start at 0.
      if (free < toEnd + size) return false;
      m.u32[(DATA_OFFSET + off) >> 2] = WRAP_MARKER;
      this.pos = (this.pos + toEnd) >>> 0;
      off = 0;
      this.wraps++;
    } else if (free < size) {
      return false;
    }
    const base = DATA_OFFSET + off;
    const w = base >> 2;
    const u8 = m.u8;
    const u32 = m.u32;
    const end = base + ENTRY_HEADER_BYTES + len;
    u32[w + (Ent.LENGTH >> 2)] = len;
    u32[w + (Ent.EPOCH >> 2)] = epoch >>> 0;
    m.f64[(base + Ent.SEQ) >> 3] = seq;
    if (len > 0) u8.set(payload, base + Ent.PAYLOAD);
    // Zero the pad: the ring should never carry leftovers of older entries.
    for (let i = end; i < base + size; i++) u8[i] = 0;
    u32[w + (Ent.CRC >> 2)] = crc32Range(u8, base + Ent.CRC_FROM, end);
    u32[w] = ENTRY_MARKER;
    this.pos = (this.pos + size) >>> 0;
    return true;
  }

  /** Makes every appended entry visible to the reader with one atomic store of head. */
  publish(): void {
    Atomics.store(liveMapping(this.h, this.ring.name).u32, HEAD_IDX, this.pos);
  }

  /**
   * Resolves once an entry of `bytes` total size (entryBytes(len)) can be appended, counting
   * the WRAP skip it would need at the current position (so a resolved wait is never
   * followed by a tryAppend that fails for lack of contiguous space). Woken by notify()
   * and re-checked every 2 ms so a lost notify cannot deadlock. The timer is unref'd: the
   * space comes from a reader whose ack arrives on a FIFO that keeps the process alive.
   * Rejects on abort, ENTRY_TOO_LARGE if `bytes` > capacity, SHM_DETACHED if the ring goes away.
   */
  waitForSpace(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!(bytes >= 0) || bytes > this.cap) {
      return Promise.reject(new OspsError('ENTRY_TOO_LARGE', `${bytes} bytes can never fit a ${this.cap}-byte ring`, { bytes }));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    try {
      if (this.fits(bytes)) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      const w: SpaceWaiter = {
        bytes,
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.waiters.delete(w);
          this.stopTimerIfIdle();
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.waiters.add(w);
      if (!this.timer) {
        this.timer = setInterval(() => this.notify(), SPACE_POLL_MS);
        this.timer.unref();
      }
    });
  }

  /** Re-checks waiting waitForSpace() calls now; call it when an ack arrives. */
  notify(): void {
    for (const w of this.waiters) {
      let ok: boolean;
      try {
        ok = this.fits(w.bytes);
      } catch (err) {
        this.settle(w);
        w.reject(err);
        continue;
      }
      if (ok) {
        this.settle(w);
        w.resolve();
      }
    }
  }

  /**
   * Empties the ring: head = tail = 0, generation++. Only valid while no reader is attached
   * (e.g. before a new standby starts reading): it is the one place the writer stores tail.
   */
  reset(): void {
    const m = liveMapping(this.h, this.ring.name);
    // Generation first: a leftover reader then sees the reset instead of reading garbage.
    Atomics.add(m.i32, GEN_IDX, 1);
    Atomics.store(m.u32, TAIL_IDX, 0);
    Atomics.store(m.u32, HEAD_IDX, 0);
    this.pos = 0;
    this.notify();
  }

  private used(m: Mapping): number {
    const tail = Atomics.load(m.u32, TAIL_IDX);
    const used = (this.pos - tail) >>> 0;
    // A tail outside [head - capacity, head] would make us overwrite unread entries (or stall forever).
    if (used > this.cap || (tail & 7) !== 0) {
      throw new RingCorruptError('bounds', `ring tail ${tail} is inconsistent with head ${this.pos}`, { tail, head: this.pos });
    }
    return used;
  }

  private fits(bytes: number): boolean {
    const free = this.cap - this.used(liveMapping(this.h, this.ring.name));
    if (bytes > this.cap / 2) return free >= bytes;
    const toEnd = this.cap - (this.pos & this.mask);
    return bytes <= toEnd ? free >= bytes : free >= toEnd + bytes;
  }

  private settle(w: SpaceWaiter): void {
    this.waiters.delete(w);
    w.signal?.removeEventListener('abort', w.onAbort);
    this.stopTimerIfIdle();
  }

  private stopTimerIfIdle(): void {
    if (this.waiters.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

// ---------------------------------------------------------------------------------------

/** One entry as read from the ring. */
export interface RingEntry {
  seq: number;
  epoch: number;
  /**
   * A view INTO shared memory: valid only until release() (the writer may then overwrite
   * it) and never after detach(). Copy it (Buffer.from(payload)) to keep it longer.
   */
  payload: Uint8Array;
}

export interface RingReaderOptions {
  /** The epoch every entry must carry (read once per read() call); unchecked if absent. */
  expectedEpoch?: () => number;
  /** Seq of the first entry this reader expects. */
  nextSeq: number;
}

/**
 * The single reader (the standby). read() validates every entry before returning it:
 * marker ('magic'), length within the ring and the published region ('bounds'), CRC ('crc'),
 * seq continuity ('seq-gap'), epoch ('epoch'); a reset of the ring under it is 'bounds'.
 *
 * Error policy: read() returns the valid entries that precede a bad one; the bad entry is
 * never returned, and the next read() (and every later one) throws the RingCorruptError.
 * If the first entry is bad, read() throws at once. The reader is then poisoned for good:
 * the standby must be resynced from a snapshot.
 */
export class RingReader {
  private readonly ring: ShmRing;
  private readonly h: Handle;
  private readonly cap: number;
  private readonly mask: number;
  private readonly maxPayload: number;
  private readonly expectedEpoch: (() => number) | undefined;
  private readonly generation: number;
  /** Position after the last returned entry. */
  private pos: number;
  /** Position last stored to tail. */
  private released: number;
  private seq: number;
  private error: RingCorruptError | null = null;

  constructor(ring: ShmRing, opts: RingReaderOptions) {
    if (!Number.isSafeInteger(opts.nextSeq)) throw new OspsError('SHM_BAD_VALUE', `nextSeq must be a safe integer, got ${opts.nextSeq}`);
    this.ring = ring;
    this.h = handleOf(ring);
    const m = liveMapping(this.h, ring.name);
    this.cap = ring.capacity;
    this.mask = ring.capacity - 1;
    this.maxPayload = maxPayloadFor(ring.capacity);
    this.expectedEpoch = opts.expectedEpoch;
    this.generation = Atomics.load(m.i32, GEN_IDX);
    this.pos = Atomics.load(m.u32, TAIL_IDX);
    this.released = this.pos;
    this.seq = opts.nextSeq;
  }

  /** Seq of the next entry read() will return. */
  get nextSeq(): number {
    return this.seq;
  }

  /** Published bytes not yet returned by read(). */
  pending(): number {
    return (Atomics.load(liveMapping(this.h, this.ring.name).u32, HEAD_IDX) - this.pos) >>> 0;
  }

  /** Up to `max` published entries after the last returned one, in seq order (see class doc for errors). */
  read(max = Number.POSITIVE_INFINITY): RingEntry[] {
    const m = liveMapping(this.h, this.ring.name);
    if (this.error) throw this.error;
    const out: RingEntry[] = [];
    let err: RingCorruptError | null = null;
    const gen = Atomics.load(m.i32, GEN_IDX);
    const head = Atomics.load(m.u32, HEAD_IDX);
    let pos = this.pos;
    let seq = this.seq;
    if (gen !== this.generation) {
      err = new RingCorruptError('bounds', `ring was reset under the reader (generation ${this.generation} -> ${gen})`, {
        generation: gen,
      });
    } else if (((head - pos) >>> 0) > this.cap || (head & 7) !== 0) {
      err = new RingCorruptError('bounds', `ring head ${head} is inconsistent with read position ${pos}`, { head, pos });
    } else {
      const { u8, u32, f64 } = m;
      const cap = this.cap;
      const mask = this.mask;
      const checkEpoch = this.expectedEpoch !== undefined;
      const wantEpoch = checkEpoch ? (this.expectedEpoch as () => number)() >>> 0 : 0;
      while (pos !== head && out.length < max) {
        const off = pos & mask;
        const toEnd = cap - off;
        const avail = (head - pos) >>> 0;
        const base = DATA_OFFSET + off;
        const w = base >> 2;
        // Positions are 8-aligned and pos != head, so at least the 4 marker bytes are published.
        const marker = u32[w];
        if (marker === WRAP_MARKER) {
          if (avail < toEnd) {
            err = new RingCorruptError('bounds', `WRAP at offset ${off} skips past head`, { pos, head });
            break;
          }
          pos = (pos + toEnd) >>> 0;
          continue;
        }
        if (marker !== ENTRY_MARKER) {
          err = new RingCorruptError('magic', `bad entry marker 0x${(marker ?? 0).toString(16)} at offset ${off}`, { pos, seq });
          break;
        }
        const len = avail >= ENTRY_HEADER_BYTES && toEnd >= ENTRY_HEADER_BYTES ? (u32[w + (Ent.LENGTH >> 2)] as number) : -1;
        const size = len >= 0 && len <= this.maxPayload ? entryBytes(len) : -1;
        if (size < 0 || size > avail || size > toEnd) {
          err = new RingCorruptError('bounds', `entry at offset ${off} (length ${len}) overruns the ring or the published region`, {
            pos,
            head,
            len,
            seq,
          });
          break;
        }
        const end = base + ENTRY_HEADER_BYTES + len;
        if (crc32Range(u8, base + Ent.CRC_FROM, end) !== u32[w + (Ent.CRC >> 2)]) {
          err = new RingCorruptError('crc', `entry at offset ${off} fails its CRC`, { pos, seq });
          break;
        }
        const eSeq = f64[(base + Ent.SEQ) >> 3] as number;
        if (eSeq !== seq) {
          err = new RingCorruptError('seq-gap', `entry seq ${eSeq} where ${seq} was expected`, { pos, seq: eSeq, expected: seq });
          break;
        }
        const eEpoch = u32[w + (Ent.EPOCH >> 2)] as number;
        if (checkEpoch && eEpoch !== wantEpoch) {
          err = new RingCorruptError('epoch', `entry seq ${eSeq} has epoch ${eEpoch}, expected ${wantEpoch}`, {
            seq: eSeq,
            epoch: eEpoch,
            expected: wantEpoch,
          });
          break;
        }
        out.push({ seq: eSeq, epoch: eEpoch, payload: u8.subarray(base + Ent.PAYLOAD, end) });
        seq++;
        pos = (pos + size) >>> 0;
      }
    }
    this.pos = pos;
    this.seq = seq;
    if (err) {
      this.error = err;
      if (out.length === 0) throw err;
    }
    return out;
  }

  /** Frees everything returned so far for the writer (one atomic store of tail). Copy payloads first. */
  release(): void {
    const m = liveMapping(this.h, this.ring.name);
    if (this.released === this.pos) return;
    Atomics.store(m.u32, TAIL_IDX, this.pos);
    this.released = this.pos;
  }
}
