/**
 * Creating, mapping, reclaiming and removing the shm object itself. ShmRing wraps what
 * these return; nothing here knows about handles, the writer or the reader.
 */
import fs from 'node:fs';
import os from 'node:os';
import shm from 'shm-typed-array';
import { OspsError } from '../../errors.js';
import { isSameProcess, processStartTime } from '../../runtime/proc.js';
import {
  DEFAULT_CAPACITY,
  HEADER_BYTES,
  Hdr,
  MAX_CAPACITY,
  MAX_INSTANCE_BYTES,
  MIN_CAPACITY,
  isValidCapacity,
  objectBytes,
  shmPath,
} from '../shm-layout.js';
import { type HeaderInfo, IDENTITY_FIELDS, parseHeader, writeIdentity } from './header.js';
import { assertName, inspectObject, lstatOrNull, statOwnObject } from './inspect.js';
import { type Mapping, destroyObject, newMapping, releaseMapping, reuseMapping } from './mapping.js';

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

export interface Opened {
  m: Mapping;
  info: HeaderInfo;
}

/** See ShmRing.create. */
export function createObject(opts: ShmRingCreateOptions): Opened {
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
  // Name a squatter before trying: O_EXCL alone would only say "exists".
  statOwnObject(name);
  let buf: Buffer | null;
  try {
    buf = shm.create(objectBytes(capacity), 'Buffer', name, '600');
  } catch (err) {
    throw new OspsError('SHM_CREATE_FAILED', `cannot create shm object ${name}: ${(err as Error).message}`, { name });
  }
  if (!buf) {
    // Created by someone else between the check and O_EXCL: same verdicts.
    statOwnObject(name);
    throw new OspsError('SHM_EXISTS', `shm object ${name} already exists`, { name });
  }
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
  return { m, info: { capacity, creatorPid: process.pid, creatorStart: 0, instance: opts.instance } };
}

/** See ShmRing.attach. */
export function attachObject(shmName: string): Opened {
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
  return { m, info };
}

/** See ShmRing.reclaim. */
export function reclaimObject(shmName: string, opts: { force?: boolean }): ReclaimResult {
  assertName(shmName);
  if (!statOwnObject(shmName)) return { reclaimed: false };
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

/** See ShmRing.destroy. */
export function removeObject(shmName: string): boolean {
  assertName(shmName);
  const st = lstatOrNull(shmPath(shmName));
  const uid = process.getuid?.();
  // Another user's object at our name is not ours to remove (see assertNotForeign).
  if (st && uid !== undefined && st.uid !== uid) return false;
  return destroyObject(shmName);
}

export function objectExists(shmName: string): boolean {
  assertName(shmName);
  return lstatOrNull(shmPath(shmName)) !== null;
}
