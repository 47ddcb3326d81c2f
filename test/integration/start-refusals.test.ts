// `osps start` refuses, in one line with exit 2 and before anything is spawned, a data dir
// another user could have prepared and an endpoint the primary could not keep.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Instance, freePort } from '../helpers/instance.js';
import { tracked } from '../helpers/tracked.js';

const { track, onTeardown } = tracked();

/** Runs `start` to its end (a refusal ends it; a start that serves is stopped by the timeout). */
async function startRefused(i: Instance, extraArgs: string[] = []): Promise<{ exitCode: number | undefined; stderr: string }> {
  i.opts.extraArgs = extraArgs;
  await i.start({ waitReady: false });
  const r = await Promise.race([i.proc, new Promise<null>((res) => setTimeout(() => res(null), 15_000))]);
  return { exitCode: r ? r.exitCode : undefined, stderr: i.stderr };
}

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

describe('the data dir is checked like the runtime dir', () => {
  it.runIf(asRoot)('a 0777 data dir owned by another user, with a planted journal and a symlink at journal.bin.next: refused, the target untouched', async () => {
    const i = track(new Instance('dd-foreign'));
    const victim = path.join(i.tmp, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.mkdirSync(i.dataDir);
    fs.symlinkSync(victim, path.join(i.dataDir, 'journal.bin.next'));
    fs.writeFileSync(path.join(i.dataDir, 'journal.bin'), 'planted');
    fs.chmodSync(i.dataDir, 0o777);
    fs.chownSync(i.dataDir, NOBODY, NOBODY);
    const r = await startRefused(i);
    expect(r.stderr).toBe(`osps: refusing data dir ${i.dataDir}: owned by uid ${NOBODY}, not 0\n`);
    expect(r.exitCode).toBe(2);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.existsSync(i.paths.dir)).toBe(false);
  });

  it('a symlink planted at journal.bin.next of our own data dir: refused, never followed', async () => {
    const i = track(new Instance('dd-symlink'));
    const victim = path.join(i.tmp, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.mkdirSync(i.dataDir, { mode: 0o700 });
    fs.symlinkSync(victim, path.join(i.dataDir, 'journal.bin.next'));
    const r = await startRefused(i);
    expect(r.stderr).toBe(`osps: refusing data dir ${i.dataDir}: ${path.join(i.dataDir, 'journal.bin.next')} is a symlink\n`);
    expect(r.exitCode).toBe(2);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.existsSync(i.paths.dir)).toBe(false);
  });
});

describe('the runtime dir', () => {
  it.runIf(asRoot)('a 0777 runtime root owned by another user: refused in one line, exit 2, like the data dir', async () => {
    const i = track(new Instance('rd-foreign'));
    fs.mkdirSync(i.runtimeRoot);
    fs.chmodSync(i.runtimeRoot, 0o777);
    fs.chownSync(i.runtimeRoot, NOBODY, NOBODY);
    const r = await startRefused(i);
    expect(r.stderr).toBe(`osps: refusing runtime dir ${i.runtimeRoot}: owned by uid ${NOBODY}, not 0\n`);
    expect(r.exitCode).toBe(2);
    expect(fs.readdirSync(i.runtimeRoot)).toEqual([]);
  });
});

describe('the client endpoint is checked before anything is spawned', () => {
  for (const [endpoint, line] of [
    ['tcp://127.0.0.1:99999', "invalid endpoint 'tcp://127.0.0.1:99999': port 99999 is out of range (1-65535)"],
    ['tcp://127.0.0.1:0', "invalid endpoint 'tcp://127.0.0.1:0': port 0 binds a random port, a different one after every failover: choose a fixed port (1-65535)"],
    ['ipc://', "invalid endpoint 'ipc://': ipc:// needs a socket path (ipc:///run/osps/NAME.sock)"],
  ] as const) {
    it(`${endpoint}: one line, exit 2`, async () => {
      const i = track(new Instance('ep-bad'));
      const r = await startRefused(i, ['--endpoint', endpoint]);
      expect(r.stderr).toBe(`osps: ${line}\n`);
      expect(r.exitCode).toBe(2);
      expect(fs.existsSync(i.paths.dir)).toBe(false);
    });
  }

  it('a port in use: one line, exit 2, without a single spawn', async () => {
    const port = await freePort();
    const s = net.createServer();
    onTeardown(() => new Promise((r) => s.close(r)));
    await new Promise<void>((res) => s.listen(port, '127.0.0.1', res));
    const i = track(new Instance('ep-busy', { port }));
    const r = await startRefused(i);
    expect(r.stderr).toBe(`osps: endpoint tcp://127.0.0.1:${port} is already in use by another process\n`);
    expect(r.exitCode).toBe(2);
    expect(i.events.filter((e) => e.event === 'spawned')).toEqual([]);
    expect(fs.existsSync(i.paths.dir)).toBe(false);
  });

  it('an ipc path in a dir that does not exist: one line, exit 2', async () => {
    const i = track(new Instance('ep-ipc'));
    const sock = path.join(i.tmp, 'missing', 'c.sock');
    const r = await startRefused(i, ['--endpoint', `ipc://${sock}`]);
    expect(r.stderr).toBe(`osps: invalid endpoint 'ipc://${sock}': directory ${path.dirname(sock)} does not exist\n`);
    expect(r.exitCode).toBe(2);
  });
});

describe('the predictable shm name', () => {
  it.runIf(asRoot)('an object planted at the instance\'s /dev/shm name by another user: refused in one line, the object untouched', async () => {
    const i = track(new Instance('shm-planted'));
    const file = `/dev/shm${i.paths.shmName}`;
    fs.writeFileSync(file, 'planted', { mode: 0o666 });
    fs.chownSync(file, NOBODY, NOBODY);
    try {
      const r = await startRefused(i);
      expect(r.stderr).toBe(`osps: ${file} belongs to uid ${NOBODY}, not to this user (uid 0): another user created it first; remove it as that user or choose another instance name\n`);
      expect(r.exitCode).toBe(2);
      expect(fs.readFileSync(file, 'utf8')).toBe('planted');
      expect(fs.existsSync(i.paths.dir)).toBe(false);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
