// The journal's disk fills up under a running pair: writes are refused and not applied,
// reads of committed state keep being answered, and writes resume as soon as a little space
// returns (no room for a whole checkpoint needed). The data dir is a 2 MiB tmpfs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance } from '../helpers/instance.js';

let inst: Instance | null = null;
let clients: Client[] = [];
let mounted: string | null = null;

function mountTmpfs(dir: string): boolean {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
    mounted = dir;
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
  if (!inst) return;
  const { leftovers } = await inst.stopAndCheck();
  if (mounted) execFileSync('umount', ['-l', mounted]);
  mounted = null;
  await inst.destroy();
  inst = null;
  expect(leftovers).toEqual([]);
});

/** Appends to `file` until the disk refuses; returns its size. */
function fill(file: string): number {
  const chunk = Buffer.alloc(16 * 1024, 0x66);
  const fd = fs.openSync(file, 'a');
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  // Fill the last partial page too.
  const fd2 = fs.openSync(file, 'a');
  try {
    for (;;) fs.writeSync(fd2, Buffer.alloc(512, 0x66));
  } catch {
    // full
  } finally {
    fs.closeSync(fd2);
  }
  return fs.statSync(file).size;
}

describe('a full disk under the journal', () => {
  it('refuses writes without applying them, keeps answering reads, and recovers as soon as some space returns', async (ctx) => {
    inst = new Instance('fulldisk');
    if (!mountTmpfs(inst.dataDir)) {
      ctx.skip(); // mount -t tmpfs needs root
      return;
    }
    await inst.start();
    const reader = new Client({ endpoint: inst.endpoint, deadlineMs: 5000 });
    clients.push(reader);
    for (let i = 0; i < 20; i++) await reader.set(`k${i}`, `v${i}`);
    expect(await reader.incr('n', 1)).toBe(1);
    // The standby is in sync before the disk fills.
    await expect.poll(async () => (await reader.info()).standby, { timeout: 10_000 }).toBe('in-sync');

    const filler = path.join(inst.dataDir, 'filler');
    fill(filler);
    const writer = new Client({ endpoint: inst.endpoint, deadlineMs: 1500 });
    clients.push(writer);
    const big = 'b'.repeat(64 * 1024);
    await expect(writer.set('refused', big)).rejects.toMatchObject({ message: expect.stringMatching(/journal cannot write/) });
    // (A record small enough for the journal's last partly used page would still fit.)
    await expect(writer.set('k0', big)).rejects.toThrow(/journal cannot write/);

    // Reads of committed state are answered at once, and the refused writes are nowhere.
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) expect(await reader.get(`k${i}`)).toBe(`v${i}`);
    expect(await reader.get('refused')).toBeNull();
    expect(await reader.get('n')).toBe('1');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await reader.info()).standby).toBe('in-sync');

    // A little space, far less than the journal itself: writes go through again.
    const journalBytes = fs.statSync(path.join(inst.dataDir, 'journal.bin')).size;
    fs.truncateSync(filler, fs.statSync(filler).size - 256 * 1024);
    let ok = false;
    const deadline = Date.now() + 10_000;
    while (!ok && Date.now() < deadline) {
      ok = await writer.set('after', 'v').then(() => true, () => false);
      if (!ok) await sleep(100);
    }
    expect(ok).toBe(true);
    expect(journalBytes).toBeGreaterThan(0);
    expect(await reader.incr('n', 1)).toBe(2);
    expect(await reader.get('after')).toBe('v');
  }, 90_000);
});
