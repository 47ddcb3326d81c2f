/**
 * The process-wide registry of shm mappings.
 *
 * shm-typed-array keeps ONE bookkeeping record per object name per process and never
 * updates it when the same name is mapped again: a second mapping of a name would be
 * unmapped by nobody, and a garbage-collected Buffer's free callback unmaps whatever that
 * record points at (possibly another live mapping -> SIGSEGV). So each object is mapped at
 * most once per process, the mapping is shared between handles (refcounted), every Buffer
 * that cannot safely be unmapped stays reachable forever, and mappings are marked dead
 * before the library unmaps them so later use throws instead of crashing.
 */
import shm from 'shm-typed-array';
import { OspsError } from '../../errors.js';

export interface Mapping {
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

export function newMapping(name: string, ino: number, buf: Buffer): Mapping {
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

export function reuseMapping(name: string, ino: number): Mapping | null {
  for (const m of liveMappings.get(name) ?? []) {
    if (!m.dead && m.ino === ino) {
      m.refs++;
      return m;
    }
  }
  return null;
}

export function releaseMapping(m: Mapping): void {
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

export function destroyObject(name: string): boolean {
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

/** One ShmRing's claim on a shared mapping; detached handles throw instead of touching memory. */
export interface Handle {
  readonly m: Mapping;
  detached: boolean;
}

export function detachedError(name: string): OspsError {
  return new OspsError('SHM_DETACHED', `shm ring ${name} is no longer mapped in this process (detach() or destroy() was called)`, {
    name,
  });
}

export function liveMapping(h: Handle, name: string): Mapping {
  if (h.detached || h.m.dead) throw detachedError(name);
  return h.m;
}
