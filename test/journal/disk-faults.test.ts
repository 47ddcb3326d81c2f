// The journal obeys an injected disk fault from its fault file: ENOSPC on write while a
// disk-full lasts, a delay before each fdatasync while a slow-fsync lasts, nothing after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskFaults, type DiskFault } from '../../src/journal/disk-faults.js';
import { Journal } from '../../src/journal/journal.js';
import { waitFor } from '../helpers/instance.js';
import { command, kvHost } from './helpers.js';

let dir: string;
let faultFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-diskfault-'));
  faultFile = path.join(dir, 'disk-fault.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const inject = (f: DiskFault): void => fs.writeFileSync(faultFile, JSON.stringify(f));

async function started() {
  const host = kvHost();
  const journal = new Journal(path.join(dir, 'journal.bin'), host, undefined, new DiskFaults(faultFile));
  journal.start();
  await journal.sync();
  return { host, journal };
}

describe('injected disk faults', () => {
  it('disk-full: writes fail with ENOSPC while it lasts, then succeed again', async () => {
    const { host, journal } = await started();
    inject({ kind: 'disk-full', untilMs: Date.now() + 60_000 });
    await waitFor('the fault seen', () => {
      command(host, journal, `a${host.seq}`, 'set', { key: 'k', value: 'v' });
      return (journal.write() as NodeJS.ErrnoException | null)?.code === 'ENOSPC';
    }, 2000);
    expect(journal.refusing).toBe(true);
    fs.rmSync(faultFile);
    await waitFor('writable again', () => {
      command(host, journal, `b${host.seq}`, 'set', { key: 'k', value: 'w' });
      return journal.write() === null;
    }, 2000);
    expect(journal.refusing).toBe(false);
    await journal.close();
  });

  it('slow-fsync: each fdatasync waits the delay first; an expired fault is ignored', async () => {
    const { host, journal } = await started();
    inject({ kind: 'slow-fsync', untilMs: Date.now() + 60_000, delayMs: 300 });
    await new Promise((r) => setTimeout(r, 50));
    command(host, journal, 's1', 'set', { key: 'k', value: 'v' });
    const t0 = performance.now();
    await journal.sync();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    // Over once its time is up, even with the file still there.
    inject({ kind: 'slow-fsync', untilMs: Date.now() - 1, delayMs: 300 });
    const faults = new DiskFaults(faultFile);
    expect(faults.fsyncDelayMs()).toBe(0);
    expect(faults.full()).toBeNull();
    await journal.close();
  });
});
