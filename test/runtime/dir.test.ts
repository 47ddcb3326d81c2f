import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertSafeDir, ensureRuntimeDir } from '../../dist/runtime/dir.js';
import { MAX_UNIX_SOCKET_PATH, checkEndpoint, runtimePaths } from '../../dist/runtime/paths.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-rd-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('runtime dir', () => {
  it('creates root and instance dir with mode 0700', () => {
    const p = runtimePaths('alpha', path.join(tmp, 'root'));
    ensureRuntimeDir(p);
    expect(fs.statSync(p.root).mode & 0o777).toBe(0o700);
    expect(fs.statSync(p.dir).mode & 0o777).toBe(0o700);
    // Idempotent: a second start accepts its own dir.
    ensureRuntimeDir(p);
  });

  it('refuses a group/world-writable dir (mode 0777)', () => {
    const root = path.join(tmp, 'open');
    fs.mkdirSync(root);
    fs.chmodSync(root, 0o777);
    expect(() => ensureRuntimeDir(runtimePaths('x', root))).toThrow(/group\/world writable/);
  });

  it('refuses a symlink planted where the dir should be', () => {
    const real = path.join(tmp, 'elsewhere');
    fs.mkdirSync(real, { mode: 0o700 });
    const link = path.join(tmp, 'root');
    fs.symlinkSync(real, link);
    expect(() => ensureRuntimeDir(runtimePaths('x', link))).toThrow(/symlink/);
  });

  it('refuses a dir owned by another user', () => {
    const root = path.join(tmp, 'theirs');
    fs.mkdirSync(root, { mode: 0o700 });
    // Running as root lets the test hand the dir to "nobody"; otherwise the check is the same code path.
    if (process.getuid?.() !== 0) return;
    fs.chownSync(root, 65534, 65534);
    expect(() => assertSafeDir(root)).toThrow(/owned by uid 65534/);
    const err = (() => {
      try {
        ensureRuntimeDir(runtimePaths('x', root));
      } catch (e) {
        return e as { code: string };
      }
      return null;
    })();
    expect(err?.code).toBe('RUNTIME_DIR_UNSAFE');
  });

  it('derives every name from the instance name, and shm names differ per runtime root', () => {
    const a = runtimePaths('svc', path.join(tmp, 'a'));
    const b = runtimePaths('svc', path.join(tmp, 'b'));
    expect(a.p2sFifo.startsWith(a.dir)).toBe(true);
    expect(a.shmName).toMatch(/^\/osps-svc-/);
    expect(a.shmName).not.toBe(b.shmName);
  });

  it('refuses a bad instance name and an over-long socket path with a clear error', () => {
    expect(() => runtimePaths('../evil', tmp)).toThrow(/invalid instance name/);
    const deep = path.join(tmp, 'd'.repeat(MAX_UNIX_SOCKET_PATH));
    expect(() => runtimePaths('svc', deep)).toThrow(/unix socket limit/);
    expect(() => checkEndpoint(`ipc://${deep}/x.sock`)).toThrow(/unix socket limit/);
    expect(() => checkEndpoint('http://x')).toThrow(/invalid endpoint/);
    expect(() => checkEndpoint('tcp://127.0.0.1:7400')).not.toThrow();
  });
});
