import fs from 'node:fs';
import path from 'node:path';
import { OspsError } from '../errors.js';
import { assertSafeDir } from './dir.js';

const CODE = 'DATA_DIR_UNSAFE';

function refuse(dir: string, why: string): never {
  throw new OspsError(CODE, `refusing data dir ${dir}: ${why}`);
}

/**
 * Whoever can write to a parent can rename the data dir away and put their own in its place,
 * so every ancestor must belong to root or us, and be writable by no one else unless sticky.
 */
function assertSteadyAncestors(realParent: string, dir: string): void {
  const uid = process.getuid?.() ?? 0;
  for (let p = realParent; ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    if (st.uid !== 0 && st.uid !== uid) refuse(dir, `its parent ${p} is owned by uid ${st.uid}`);
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      refuse(dir, `its parent ${p} (mode ${mode}) is group/world writable and not sticky`);
    }
    if (p === path.dirname(p)) return;
  }
}

/**
 * A file planted while the dir was open to others (a symlink at `journal.bin.next`, a
 * journal to replay, a hard link to a file we must not write) must never be used.
 */
function assertNoPlantedFiles(dir: string): void {
  const uid = process.getuid?.() ?? 0;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    const st = fs.lstatSync(file);
    if (st.isSymbolicLink()) refuse(dir, `${file} is a symlink`);
    if (st.uid !== uid) refuse(dir, `${file} is owned by uid ${st.uid}, not ${uid}`);
    if (st.isFile() && st.nlink > 1) refuse(dir, `${file} has ${st.nlink} hard links`);
  }
}

/**
 * Creates (or validates) the data dir by the runtime dir's rules: ours, 0700, not a symlink,
 * not group/world writable, under parents no one else can rewrite, and holding nothing
 * planted. Returns its absolute path. Every refusal is one line (code DATA_DIR_UNSAFE).
 */
export function ensureDataDir(dir: string): string {
  const abs = path.resolve(dir);
  const parent = path.dirname(abs);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  assertSteadyAncestors(fs.realpathSync(parent), abs);
  assertSafeDir(abs, 'data dir', CODE);
  try {
    fs.mkdirSync(abs, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Re-check after creation: a racing creator could have won between lstat and mkdir.
  assertSafeDir(abs, 'data dir', CODE);
  assertNoPlantedFiles(abs);
  return abs;
}
