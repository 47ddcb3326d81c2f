import fs from 'node:fs';
import path from 'node:path';
import { OspsError, isErrnoException } from '../errors.js';
import type { RuntimePaths } from './paths.js';

// Another local user could pre-create /tmp/osps-<uid> (or plant a symlink) to read or
// hijack our FIFOs and sockets: every level we rely on must be ours, private and real.
export function assertSafeDir(dir: string, what = 'runtime dir', code = 'RUNTIME_DIR_UNSAFE'): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return;
    throw err;
  }
  const uid = process.getuid?.() ?? 0;
  if (st.isSymbolicLink()) {
    throw new OspsError(code, `refusing ${what} ${dir}: it is a symlink`);
  }
  if (!st.isDirectory()) {
    throw new OspsError(code, `refusing ${what} ${dir}: it is not a directory`);
  }
  if (st.uid !== uid) {
    throw new OspsError(code, `refusing ${what} ${dir}: owned by uid ${st.uid}, not ${uid}`);
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw new OspsError(code, `refusing ${what} ${dir}: mode ${mode} is group/world writable`);
  }
}

function mkdirPrivate(dir: string): void {
  assertSafeDir(dir);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (!(isErrnoException(err) && err.code === 'EEXIST')) throw err;
  }
  // Re-check after creation: a racing creator could have won between lstat and mkdir.
  assertSafeDir(dir);
}

/** Creates (or validates) root and instance dir, both 0700 and ours. */
export function ensureRuntimeDir(paths: RuntimePaths): void {
  fs.mkdirSync(path.dirname(paths.root), { recursive: true });
  mkdirPrivate(paths.root);
  mkdirPrivate(paths.dir);
}
