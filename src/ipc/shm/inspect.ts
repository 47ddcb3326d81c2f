/**
 * Looking at an shm object through /dev/shm without mapping it: name rules, ownership, and
 * the header read with plain file I/O, so a truncated or lying object can never be mapped
 * past its end (SIGBUS), and reclaim can read a stale object's creator without creating a
 * library record.
 */
import fs from 'node:fs';
import os from 'node:os';
import { OspsError, RingCorruptError, isErrnoException } from '../../errors.js';
import { HEADER_BYTES, LIB_PREFIX_BYTES, shmPath } from '../shm-layout.js';
import { type HeaderInfo, parseHeader } from './header.js';

/** POSIX names: one leading slash, no other, NAME_MAX 255. */
const SHM_NAME_RE = /^\/[^/\0]{1,254}$/;

export interface ObjectInfo extends HeaderInfo {
  ino: number;
}

export function assertName(shmName: string): void {
  if (typeof shmName !== 'string' || !SHM_NAME_RE.test(shmName)) {
    throw new OspsError('SHM_BAD_NAME', `invalid shm name ${JSON.stringify(shmName)}: want "/" + 1..254 chars without "/"`, {
      shmName,
    });
  }
}

export function lstatOrNull(path: string): fs.Stats | null {
  try {
    return fs.lstatSync(path);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Refuses an object (or symlink) another user put at our name. /dev/shm is world-writable
 * and our names are predictable, so anyone can create one first; we neither map nor remove
 * it (removing would race with its owner recreating it, and root must not act on a user's
 * file either).
 */
export function assertNotForeign(name: string, st: fs.Stats): void {
  const uid = process.getuid?.();
  if (uid === undefined || st.uid === uid) return;
  const path = shmPath(name);
  throw new OspsError(
    'SHM_FOREIGN',
    `${path} belongs to uid ${st.uid}, not to this user (uid ${uid}): another user created it first; remove it as that user or choose another instance name`,
    { name, path, uid: st.uid },
  );
}

/**
 * Throws OspsError SHM_FOREIGN if another user owns what is at `shmName`. Maps nothing and
 * loads no native addon, so a launcher can refuse a squatted name before spawning anything.
 */
export function checkShmOwner(shmName: string): void {
  assertName(shmName);
  statOwnObject(shmName);
}

/** The object at `name` if it exists; SHM_FOREIGN if another user owns what is there. */
export function statOwnObject(name: string): fs.Stats | null {
  const st = lstatOrNull(shmPath(name));
  if (st) assertNotForeign(name, st);
  return st;
}

export function inspectObject(name: string, opts: { checkOwner: boolean }): ObjectInfo {
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
      assertNotForeign(name, st);
      if ((st.mode & 0o777) !== 0o600) {
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
