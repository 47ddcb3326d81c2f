import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../dist/journal/journal.js';
import { replayJournal } from '../../dist/journal/replay.js';
import { mulberry32 as makePrng } from '../../dist/protocol/prng.js';
import { command, kvHost, seeded, state, turn, writeBatch } from './helpers.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-journal-'));
  file = path.join(dir, 'journal.bin');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function replayed() {
  const h = kvHost();
  expect(replayJournal(file, h)).toBe(true);
  return h;
}

describe('journal', () => {
  it('holds commands while the checkpoint is pulled, then a replay rebuilds the host exactly', async () => {
    const host = seeded(5000);
    const journal = new Journal(file, host);
    journal.start();
    // The checkpoint is taken at this commit point: commands wait until its parts are pulled.
    expect(host.held).toBe(true);
    expect(() => command(host, journal, 'early', 'set', { key: 'k', value: 'v' })).toThrow(/snapshot/);
    const rnd = makePrng(7);
    const synced = journal.sync();
    for (let i = 0; i < 20; i++) {
      await writeBatch(host, journal, 50, rnd);
      await turn();
    }
    await synced;
    await journal.sync();
    expect(journal.checkpoints).toBe(1);
    expect(state(replayed())).toEqual(state(host));
    await journal.close();
  });

  it('compacts while writes go on, and every replay along the way matches the host', async () => {
    const host = seeded(3000);
    const journal = new Journal(file, host, 64 * 1024);
    journal.start();
    const rnd = makePrng(11);
    for (let round = 0; round < 300; round++) {
      await writeBatch(host, journal, 40, rnd);
      if (round % 50 === 49) {
        await journal.sync();
        expect(state(replayed())).toEqual(state(host));
      }
      await turn();
    }
    await journal.close();
    expect(journal.checkpoints).toBeGreaterThan(3);
    // Compaction keeps the file near the size of the state, not of its history.
    expect(fs.statSync(file).size).toBeLessThan(2 * 1024 * 1024);
    expect(fs.existsSync(`${file}.next`)).toBe(false);
    expect(state(replayed())).toEqual(state(host));
  });

  it('a journal that cannot be written never confirms a write', async () => {
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const host = seeded(10);
    const journal = new Journal(path.join(dir, 'not-a-dir', 'journal.bin'), host);
    journal.start();
    await expect(journal.sync()).rejects.toThrow(/EEXIST|ENOTDIR/);
    // The failed checkpoint let go of the host.
    expect(host.held).toBe(false);
    await writeBatch(host, journal, 5, makePrng(3));
    // Refused at once while the failure is fresh, and still not durable.
    await expect(journal.sync()).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(journal.installed).toBe(false);
    expect(journal.checkpoints).toBe(0);
    journal.abort();
  });

  it('no journal file: nothing to replay', () => {
    expect(replayJournal(file, kvHost())).toBe(false);
  });
});
