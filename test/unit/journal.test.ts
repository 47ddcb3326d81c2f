import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/primary/journal.js';
import type { Request } from '../../src/protocol/wire.js';
import { KvStore } from '../../src/store/kv-store.js';
import { mulberry32 as makePrng } from '../../src/chaos/prng.js';
import { crc32 as crc } from '../../src/ipc/crc32.js';
const DEDUP = 500;
let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-journal-'));
  file = path.join(dir, 'journal.bin');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Everything a replay must reproduce: log position, keys and values, and the dedup window in order. */
function state(s: KvStore) {
  const kv = new Map<string, string>();
  const dedup: unknown[] = [];
  for (const p of s.parts(1 << 30)) {
    if ('kv' in p) for (const [k, v] of p.kv) kv.set(k, v);
    if ('dedup' in p) dedup.push(...p.dedup);
  }
  return { seq: s.seq, kv: [...kv.entries()].sort(([a], [b]) => (a < b ? -1 : 1)), dedup };
}

/** Applies `n` random writes (set / incr / del over a small key space) as the primary does. */
function writeBatch(store: KvStore, journal: Journal, n: number, rnd: () => number): void {
  for (let i = 0; i < n; i++) {
    const seq = store.seq + 1;
    const key = `k${Math.floor(rnd() * 3000)}`;
    const pick = rnd();
    const req: Request =
      pick < 0.4 ? { id: `w${seq}`, op: 'set', key, value: String(Math.floor(rnd() * 1000)) }
      : pick < 0.85 ? { id: `w${seq}`, op: 'incr', key, by: 1 + Math.floor(rnd() * 5) }
      : { id: `w${seq}`, op: 'del', key };
    journal.append(seq, req, store.apply({ seq, req }));
  }
  journal.write();
}

function seeded(n: number): KvStore {
  const s = new KvStore(DEDUP);
  for (let i = 1; i <= n; i++) s.apply({ seq: i, req: { id: `s${i}`, op: 'set', key: `k${i}`, value: `${i}` } });
  return s;
}

describe('primary journal', () => {
  it('writes wait for the first checkpoint, then a replay rebuilds the store exactly', async () => {
    const store = seeded(5000);
    const journal = new Journal(file, store);
    journal.start();
    const rnd = makePrng(7);
    writeBatch(store, journal, 200, rnd);
    const synced = journal.sync();
    // Writes keep coming while the checkpoint is being written: it sees some of them.
    for (let i = 0; i < 20; i++) {
      writeBatch(store, journal, 50, rnd);
      await turn();
    }
    await synced;
    await journal.sync();
    expect(journal.checkpoints).toBe(1);
    const replayed = Journal.replay(file, DEDUP);
    expect(replayed && state(replayed)).toEqual(state(store));
    await journal.close();
  });

  it('compacts while writes go on, and every replay along the way matches the store', async () => {
    const store = seeded(3000);
    const journal = new Journal(file, store, 64 * 1024);
    journal.start();
    const rnd = makePrng(11);
    for (let round = 0; round < 300; round++) {
      writeBatch(store, journal, 40, rnd);
      if (round % 50 === 49) {
        await journal.sync();
        const replayed = Journal.replay(file, DEDUP);
        expect(replayed && state(replayed)).toEqual(state(store));
      }
      await turn();
    }
    await journal.close();
    expect(journal.checkpoints).toBeGreaterThan(3);
    // Compaction keeps the file near the size of the store, not of its history.
    expect(fs.statSync(file).size).toBeLessThan(2 * 1024 * 1024);
    expect(fs.existsSync(`${file}.next`)).toBe(false);
    const replayed = Journal.replay(file, DEDUP);
    expect(replayed && state(replayed)).toEqual(state(store));
  });

  it('a torn last record ends the replay at the write before it', async () => {
    const store = seeded(10);
    const journal = new Journal(file, store);
    journal.start();
    await journal.sync();
    const before = state(store);
    const seq = store.seq + 1;
    const req: Request = { id: 'last', op: 'set', key: 'k1', value: 'changed' };
    journal.append(seq, req, store.apply({ seq, req }));
    await journal.close();
    fs.truncateSync(file, fs.statSync(file).size - 3);
    const replayed = Journal.replay(file, DEDUP);
    expect(replayed && state(replayed)).toEqual(before);
  });

  it('replays the whole-snapshot journal of earlier versions', () => {
    const rec = (o: unknown) => {
      const body = Buffer.from(JSON.stringify(o));
      const head = Buffer.alloc(8);
      head.writeUInt32LE(body.length, 0);
      head.writeUInt32LE(crc(body), 4);
      return Buffer.concat([head, body]);
    };
    fs.writeFileSync(
      file,
      Buffer.concat([
        rec({ snapshot: { commitSeq: 2, kv: [['c', '5']], dedup: [['x', { id: 'x', ok: true, result: 5 }]] } }),
        rec({ write: { seq: 3, req: { id: 'y', op: 'incr', key: 'c' } } }),
      ]),
    );
    const replayed = Journal.replay(file, DEDUP);
    expect(replayed?.seq).toBe(3);
    expect(replayed?.get('c')).toBe('6');
    expect(replayed?.dedup.get('x')).toEqual({ id: 'x', ok: true, result: 5 });
    expect(replayed?.dedup.get('y')).toEqual({ id: 'y', ok: true, result: 6 });
  });

  it('a journal that cannot be written never confirms a write', async () => {
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const store = seeded(10);
    const journal = new Journal(path.join(dir, 'not-a-dir', 'journal.bin'), store);
    journal.start();
    writeBatch(store, journal, 5, makePrng(3));
    await expect(journal.sync()).rejects.toThrow(/EEXIST|ENOTDIR/);
    // Refused at once while the failure is fresh, and still not durable.
    await expect(journal.sync()).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(journal.installed).toBe(false);
    expect(journal.checkpoints).toBe(0);
    journal.abort();
  });

  it('no journal file: nothing to replay', () => {
    expect(Journal.replay(file, DEDUP)).toBeNull();
  });
});
