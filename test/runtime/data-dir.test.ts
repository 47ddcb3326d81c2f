// The data dir holds the journal a primary replays and overwrites: it is checked like the
// runtime dir, and nothing planted in it is ever opened.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDataDir } from '../../dist/runtime/data-dir.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-dd-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ensureDataDir', () => {
  it('creates the dir and its parents 0700, and accepts it again with our files in it', () => {
    const dir = path.join(tmp, 'a', 'b', 'data');
    expect(ensureDataDir(dir)).toBe(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.dirname(dir)).mode & 0o777).toBe(0o700);
    fs.writeFileSync(path.join(dir, 'journal.bin'), 'x');
    expect(() => ensureDataDir(dir)).not.toThrow();
  });

  it.runIf(asRoot)('refuses a 0777 dir owned by another user, in one line', () => {
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    fs.chownSync(dir, NOBODY, NOBODY);
    expect(() => ensureDataDir(dir)).toThrow(new RegExp(`^refusing data dir ${dir}: owned by uid ${NOBODY}, not 0$`));
  });

  it('refuses a dir of ours that others can write, and a symlink in place of the dir', () => {
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o770);
    expect(() => ensureDataDir(dir)).toThrow(/mode 0770 is group\/world writable/);
    const real = path.join(tmp, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    fs.symlinkSync(real, path.join(tmp, 'link'));
    expect(() => ensureDataDir(path.join(tmp, 'link'))).toThrow(/it is a symlink/);
  });

  it('refuses a parent others can write unless it is sticky (they could swap the dir)', () => {
    const parent = path.join(tmp, 'shared');
    fs.mkdirSync(parent);
    fs.chmodSync(parent, 0o777);
    expect(() => ensureDataDir(path.join(parent, 'data'))).toThrow(/its parent .*shared \(mode 0777\) is group\/world writable and not sticky/);
    fs.chmodSync(parent, 0o1777);
    expect(() => ensureDataDir(path.join(parent, 'data'))).not.toThrow();
  });

  it('refuses a planted symlink at journal.bin.next, and never touches its target', () => {
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(dir, { mode: 0o700 });
    const victim = path.join(tmp, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, path.join(dir, 'journal.bin.next'));
    expect(() => ensureDataDir(dir)).toThrow(/journal\.bin\.next is a symlink/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
  });

  it('refuses a hard link planted in the dir (it would write through to another file)', () => {
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(dir, { mode: 0o700 });
    const victim = path.join(tmp, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.linkSync(victim, path.join(dir, 'journal.bin.next'));
    expect(() => ensureDataDir(dir)).toThrow(/has 2 hard links/);
  });

  it.runIf(asRoot)('refuses a planted journal owned by another user', () => {
    const dir = path.join(tmp, 'data');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'journal.bin'), 'planted');
    fs.chownSync(path.join(dir, 'journal.bin'), NOBODY, NOBODY);
    expect(() => ensureDataDir(dir)).toThrow(new RegExp(`journal\\.bin is owned by uid ${NOBODY}, not 0`));
  });
});
