// A fresh primary that replayed the journal carries on from that file (copied, the torn tail
// cut) instead of serializing the whole state again; a long tail gets a fresh checkpoint.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Journal } from '../../dist/journal/journal.js';
import { loadJournal, replayJournal } from '../../dist/journal/replay.js';
import { command, kvHost, seeded, state } from './helpers.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-resume-'));
  file = path.join(dir, 'journal.bin');
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stopped primary's journal: a checkpoint of `keys` keys, then `writes` entries. */
async function stopped(keys: number, writes: number): Promise<void> {
  const host = seeded(keys);
  const journal = new Journal(file, host);
  journal.start();
  await journal.sync();
  for (let i = 0; i < writes; i++) command(host, journal, `w${i}`, 'set', { key: `x${i}`, value: `v${i}` });
  journal.write();
  await journal.close();
}

/** A new primary: replays the file, then starts its journal from what it read. */
function restarted(minCompactBytes?: number) {
  const host = kvHost();
  const r = loadJournal(file, host);
  if (!r) throw new Error('no journal');
  const journal = new Journal(file, host, minCompactBytes);
  journal.resumeFrom(r, host.seq);
  return { host, journal, r };
}

describe('a fresh primary carries on from the journal it replayed', () => {
  it('takes the file over without a snapshot: same records, later entries after them, replay matches', async () => {
    await stopped(2000, 300);
    const before = fs.readFileSync(file);
    const { host, journal, r } = restarted();
    expect(r.entries).toBe(300);
    expect(r.validBytes).toBe(before.length);
    journal.start();
    // No checkpoint is being pulled: commands are not held.
    expect(host.held).toBe(false);
    for (let i = 0; i < 50; i++) command(host, journal, `after${i}`, 'incr', { key: 'n', by: 1 });
    journal.write();
    await journal.sync();
    expect(journal.checkpoints).toBe(1);
    const after = fs.readFileSync(file);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    const h = kvHost();
    expect(replayJournal(file, h)).toBe(true);
    expect(state(h)).toEqual(state(host));
    await journal.close();
  });

  it('a torn tail is left out of the new file', async () => {
    await stopped(100, 20);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 3);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { host, journal, r } = restarted();
    expect(r.entries).toBe(19);
    journal.start();
    command(host, journal, 'next', 'set', { key: 'after', value: 'tail' });
    journal.write();
    await journal.sync();
    const h = kvHost();
    replayJournal(file, h);
    expect(state(h)).toEqual(state(host));
    expect(h.state.map.get('after')).toBe('tail');
    await journal.close();
  });

  it('a tail past the compaction bound is compacted at once: a fresh checkpoint', async () => {
    await stopped(100, 500);
    const { host, journal } = restarted(1024);
    journal.start();
    expect(host.held).toBe(true);
    await journal.sync();
    const h = kvHost();
    const r = loadJournal(file, h);
    expect(r?.entries).toBe(0);
    expect(state(h)).toEqual(state(host));
    await journal.close();
  });

  it('a journal many read chunks long, with a binary part larger than a chunk, replays exactly', async () => {
    const blobService = {
      name: 'blob',
      init: () => ({ blob: new Uint8Array(0), n: 0 }),
      commands: {
        grow(s: { blob: Uint8Array; n: number }, args: unknown) {
          const { bytes } = args as { bytes: number };
          const b = new Uint8Array(bytes);
          for (let i = 0; i < bytes; i += 4093) b[i] = (i / 4093) & 255;
          s.blob = b;
          return bytes;
        },
        add(s: { blob: Uint8Array; n: number }) {
          return ++s.n;
        },
      },
      *snapshot(s: { blob: Uint8Array; n: number }) {
        yield s.blob;
        yield { n: s.n };
      },
      restore(parts: unknown) {
        const it = parts as Iterator<unknown>;
        const blob = new Uint8Array(it.next().value as Uint8Array);
        const { n } = it.next().value as { n: number };
        return { blob, n };
      },
    };
    const { ServiceHost } = await import('../../dist/host/host.js');
    const { encodeEntry } = await import('../../dist/protocol/replication.js');
    const host = new ServiceHost(blobService, { dedupWindow: 1000 });
    const apply = (journal: InstanceType<typeof Journal> | null, id: string, op: string, args: { [k: string]: number }) => {
      const e = { id, op, args, digest: op, seq: host.seq + 1, at: 1 };
      host.apply(e);
      journal?.append(e.seq, encodeEntry(e));
    };
    apply(null, 'g', 'grow', { bytes: 9 * 1024 * 1024 + 7 });
    const journal = new Journal(file, host);
    journal.start();
    await journal.sync();
    // Raw bytes: the checkpoint is the blob plus a little, not JSON or base64 of it.
    expect(fs.statSync(file).size).toBeLessThan(9 * 1024 * 1024 + 64 * 1024);
    for (let i = 0; i < 200_000; i++) apply(journal, `a${i}`, 'add', {});
    journal.write();
    await journal.close();
    expect(fs.statSync(file).size).toBeGreaterThan(2 * 8 * 1024 * 1024);
    const back = new ServiceHost(blobService, { dedupWindow: 1000 });
    const r = loadJournal(file, back);
    expect(r?.entries).toBe(200_000);
    expect(back.seq).toBe(host.seq);
    expect(back.state.n).toBe(200_000);
    expect(Buffer.from(back.state.blob).equals(Buffer.from(host.state.blob))).toBe(true);
    expect([...back.dedup.entries()]).toEqual([...host.dedup.entries()]);
  });
});
