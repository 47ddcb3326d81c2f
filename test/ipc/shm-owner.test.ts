// An object another user put at our predictable shm name first: refused in one line,
// never mapped, never removed, never followed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OspsError } from '../../dist/errors.js';
import { ShmRing } from '../../dist/ipc/shm-ring.js';
import { checkShmOwner } from '../../dist/ipc/shm/inspect.js';

const PREFIX = `osps-test-${process.pid}-owner-`;
/** An unprivileged uid that is not ours (nobody). */
const OTHER_UID = 65534;
const isRoot = process.getuid?.() === 0;
const made: string[] = [];
const dirs: string[] = [];

function freshName(): string {
  const n = `/${PREFIX}${Math.random().toString(36).slice(2, 10)}`;
  made.push(n);
  return n;
}

function caught(fn: () => unknown): OspsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OspsError);
    return err as OspsError;
  }
  throw new Error('expected an OspsError');
}

/** What another local user does first: a file of their own at our name, world-readable. */
function squat(name: string, content = 'not yours'): string {
  const p = `/dev/shm${name}`;
  fs.writeFileSync(p, content, { mode: 0o666 });
  fs.chownSync(p, OTHER_UID, OTHER_UID);
  return p;
}

afterEach(() => {
  for (const n of made.splice(0)) fs.rmSync(`/dev/shm${n}`, { force: true });
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

afterAll(() => {
  expect(fs.readdirSync('/dev/shm').filter((f) => f.startsWith(PREFIX))).toEqual([]);
});

describe.skipIf(!isRoot)('an shm object another user created at our name', () => {
  it('makes create() refuse with SHM_FOREIGN in one line naming the path and the owner', () => {
    const name = freshName();
    const p = squat(name);
    const err = caught(() => ShmRing.create({ shmName: name, instance: 'owner', capacityBytes: 4096 }));
    expect(err.code).toBe('SHM_FOREIGN');
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain(p);
    expect(err.message).toContain(`uid ${OTHER_UID}`);
    expect(fs.readFileSync(p, 'utf8')).toBe('not yours');
    expect(caught(() => checkShmOwner(name)).code).toBe('SHM_FOREIGN');
  });

  it('is neither reclaimed (even forced), attached nor destroyed', () => {
    const name = freshName();
    const p = squat(name);
    expect(ShmRing.exists(name)).toBe(true);
    expect(caught(() => ShmRing.reclaim(name, { force: true })).code).toBe('SHM_FOREIGN');
    expect(caught(() => ShmRing.attach(name)).code).toBe('SHM_FOREIGN');
    expect(ShmRing.destroy(name)).toBe(false);
    const st = fs.statSync(p);
    expect(st.uid).toBe(OTHER_UID);
    expect(fs.readFileSync(p, 'utf8')).toBe('not yours');
  });

  it('refuses a planted symlink owned by another user and leaves its target alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-owner-'));
    dirs.push(dir);
    const target = path.join(dir, 'precious');
    fs.writeFileSync(target, 'keep me');
    const name = freshName();
    const link = `/dev/shm${name}`;
    fs.symlinkSync(target, link);
    fs.lchownSync(link, OTHER_UID, OTHER_UID);
    expect(caught(() => ShmRing.reclaim(name, { force: true })).code).toBe('SHM_FOREIGN');
    expect(caught(() => ShmRing.create({ shmName: name, instance: 'owner', capacityBytes: 4096 })).code).toBe('SHM_FOREIGN');
    expect(fs.readFileSync(target, 'utf8')).toBe('keep me');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  });
});

describe('an object of our own at the name', () => {
  it('is SHM_EXISTS for create(), and reclaim() clears it even with a wrong mode and no header', () => {
    const name = freshName();
    fs.writeFileSync(`/dev/shm${name}`, 'garbage', { mode: 0o666 });
    checkShmOwner(name);
    expect(caught(() => ShmRing.create({ shmName: name, instance: 'owner', capacityBytes: 4096 })).code).toBe('SHM_EXISTS');
    expect(ShmRing.reclaim(name, { force: true }).reclaimed).toBe(true);
    const ring = ShmRing.create({ shmName: name, instance: 'owner', capacityBytes: 4096 });
    expect(fs.statSync(`/dev/shm${name}`).mode & 0o777).toBe(0o600);
    ring.detach();
    expect(ShmRing.destroy(name)).toBe(true);
  });
});
