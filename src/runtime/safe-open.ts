import fs from 'node:fs';
import { OspsError, isErrnoException } from '../errors.js';

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * How a data-dir file is opened:
 * - `read`: an existing file, for reading;
 * - `append`: created if missing, written at the end (a log);
 * - `replace`: a fresh file (`O_EXCL`) in place of whatever had the name (a temp file
 *   that is renamed over the real one).
 */
export type OpenHow = 'read' | 'append' | 'replace';

const FLAGS: Record<OpenHow, number> = {
  // O_NONBLOCK: a FIFO planted at the name must not hang the open.
  read: O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
  append: O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK,
  replace: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
};

function unsafe(file: string, why: string): OspsError {
  return new OspsError('DATA_FILE_UNSAFE', `refusing ${file}: ${why}`);
}

/**
 * Opens a file without ever following a symlink at its name (`O_NOFOLLOW`), and refuses
 * anything but a regular file of ours with one link. The directories above it must be
 * checked already (ensureDataDir): O_NOFOLLOW guards only the last component.
 */
export function openNoFollow(file: string, how: OpenHow, mode = 0o600): number {
  if (how === 'replace') {
    // unlink removes a planted symlink itself, never its target.
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if (!(isErrnoException(err) && err.code === 'ENOENT')) throw err;
    }
  }
  let fd: number;
  try {
    fd = fs.openSync(file, FLAGS[how], mode);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ELOOP') throw unsafe(file, 'it is a symlink');
    if (isErrnoException(err) && err.code === 'EEXIST') throw unsafe(file, 'it was re-created while being replaced');
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    const uid = process.getuid?.() ?? 0;
    if (!st.isFile()) throw unsafe(file, 'it is not a regular file');
    if (st.uid !== uid) throw unsafe(file, `it is owned by uid ${st.uid}, not ${uid}`);
    if (st.nlink > 1) throw unsafe(file, `it has ${st.nlink} hard links`);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** The whole file, read through openNoFollow; null when there is none. */
export function readFileNoFollow(file: string): Buffer | null {
  let fd: number;
  try {
    fd = openNoFollow(file, 'read');
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return null;
    throw err;
  }
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
