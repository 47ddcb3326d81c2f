// Opening a data-dir file never follows a symlink at its name, never hangs on a FIFO, and
// refuses what is not a regular file of ours.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNoFollow, readFileNoFollow } from '../../dist/runtime/safe-open.js';

let tmp: string;
let victim: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-so-'));
  victim = path.join(tmp, 'victim');
  fs.writeFileSync(victim, 'precious');
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('openNoFollow', () => {
  it("'replace' puts a fresh 0600 file in place of a planted symlink; the target is untouched", () => {
    const next = path.join(tmp, 'journal.bin.next');
    fs.symlinkSync(victim, next);
    const fd = openNoFollow(next, 'replace');
    fs.writeSync(fd, 'journal');
    fs.closeSync(fd);
    expect(fs.lstatSync(next).isSymbolicLink()).toBe(false);
    expect(fs.statSync(next).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(next, 'utf8')).toBe('journal');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
  });

  it("'replace' also replaces a leftover file (a torn checkpoint) rather than writing into it", () => {
    const next = path.join(tmp, 'journal.bin.next');
    fs.writeFileSync(next, 'old leftover bytes');
    fs.linkSync(next, path.join(tmp, 'other-name'));
    const fd = openNoFollow(next, 'replace');
    fs.writeSync(fd, 'new');
    fs.closeSync(fd);
    expect(fs.readFileSync(next, 'utf8')).toBe('new');
    expect(fs.readFileSync(path.join(tmp, 'other-name'), 'utf8')).toBe('old leftover bytes');
  });

  it("'read' and 'append' refuse a symlink, in one line", () => {
    const link = path.join(tmp, 'journal.bin');
    fs.symlinkSync(victim, link);
    expect(() => openNoFollow(link, 'read')).toThrow(`refusing ${link}: it is a symlink`);
    expect(() => openNoFollow(link, 'append')).toThrow(`refusing ${link}: it is a symlink`);
    expect(() => readFileNoFollow(link)).toThrow(/it is a symlink/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
  });

  it('refuses a FIFO at the name without hanging, and a hard link', () => {
    const fifo = path.join(tmp, 'journal.bin');
    execFileSync('mkfifo', [fifo]);
    expect(() => readFileNoFollow(fifo)).toThrow(/not a regular file/);
    const hard = path.join(tmp, 'osps.log');
    fs.linkSync(victim, hard);
    expect(() => openNoFollow(hard, 'append')).toThrow(/has 2 hard links/);
  });

  it.runIf(process.getuid?.() === 0)('refuses a file owned by another user', () => {
    fs.chownSync(victim, 65534, 65534);
    expect(() => readFileNoFollow(victim)).toThrow(/owned by uid 65534/);
  });

  it('reads a regular file whole, and gives null for a missing one', () => {
    expect(readFileNoFollow(victim)?.toString()).toBe('precious');
    expect(readFileNoFollow(path.join(tmp, 'none'))).toBeNull();
    const log = path.join(tmp, 'osps.log');
    for (const line of ['a\n', 'b\n']) {
      const fd = openNoFollow(log, 'append');
      fs.writeSync(fd, line);
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(log, 'utf8')).toBe('a\nb\n');
  });
});
