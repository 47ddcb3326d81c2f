import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../dist/journal/journal.js';
import { repairJournal } from '../../dist/journal/repair.js';
import { replayJournal } from '../../dist/journal/replay.js';
import { command, kvHost, seeded, state } from './helpers.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-repair-'));
  file = path.join(dir, 'journal.bin');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A checkpoint of 20 keys, then 100 entries; returns the journal's size after each entry. */
async function journalOf(): Promise<{ sizes: number[]; states: ReturnType<typeof state>[] }> {
  const host = seeded(20);
  const journal = new Journal(file, host);
  journal.start();
  await journal.sync();
  const sizes = [fs.statSync(file).size];
  const states = [state(host)];
  for (let i = 0; i < 100; i++) {
    command(host, journal, `w${i}`, 'set', { key: `x${i}`, value: String(i) });
    await journal.sync();
    sizes.push(fs.statSync(file).size);
    states.push(state(host));
  }
  await journal.close();
  return { sizes, states };
}

describe('repairJournal', () => {
  it('a valid journal (or none) is left alone', async () => {
    expect(repairJournal(file)).toMatchObject({ clean: true, backup: null });
    await journalOf();
    const before = fs.readFileSync(file);
    expect(repairJournal(file)).toMatchObject({ clean: true, backup: null, droppedBytes: 0 });
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('cuts at the damaged entry, keeps the original as a backup, and the cut journal replays', async () => {
    const { sizes, states } = await journalOf();
    const original = fs.readFileSync(file);
    // Damage entry 60 (which starts where the journal ended after entry 59).
    const at = (sizes[59] as number) + 10;
    const damaged = Buffer.from(original);
    damaged[at] = (damaged[at] as number) ^ 0xff;
    fs.writeFileSync(file, damaged);
    expect(() => replayJournal(file, kvHost())).toThrow(/corrupt at byte/);
    const r = repairJournal(file, new Date('2026-01-02T03:04:05Z'));
    expect(r).toMatchObject({ clean: false, offset: sizes[59], keptBytes: sizes[59], stateKept: true });
    expect(r.droppedBytes).toBe(original.length - (sizes[59] as number));
    expect(r.backup).toBe(`${file}.corrupt-2026-01-02T03-04-05-000Z`);
    expect(fs.readFileSync(r.backup as string).equals(damaged)).toBe(true);
    expect(fs.statSync(file).size).toBe(sizes[59]);
    const h = kvHost();
    expect(replayJournal(file, h)).toBe(true);
    expect(state(h)).toEqual(states[59]);
  });

  it('damage inside the checkpoint keeps no state: the journal is emptied, the original kept', async () => {
    await journalOf();
    const damaged = fs.readFileSync(file);
    damaged[12] = (damaged[12] as number) ^ 0x01;
    fs.writeFileSync(file, damaged);
    const r = repairJournal(file);
    expect(r).toMatchObject({ clean: false, offset: 0, keptBytes: 0, stateKept: false });
    expect(fs.readFileSync(r.backup as string).equals(damaged)).toBe(true);
    expect(fs.statSync(file).size).toBe(0);
    expect(replayJournal(file, kvHost())).toBe(false);
  });
});
