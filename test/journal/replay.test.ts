import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { crc32 } from '../../dist/ipc/crc32.js';
import { JournalCorruptError } from '../../dist/journal/errors.js';
import { requestDigest } from '../../dist/host/digest.js';
import { tagged } from '../../dist/host/snapshot-format.js';
import { Journal } from '../../dist/journal/journal.js';
import { encodeRecord, TAG_END, TAG_PART } from '../../dist/journal/records.js';
import { encodeEntry } from '../../dist/protocol/replication.js';
import { replayJournal } from '../../dist/journal/replay.js';
import { command, kvHost, seeded, state } from './helpers.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-replay-'));
  file = path.join(dir, 'journal.bin');
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A stopped instance's journal: a checkpoint of `keys` keys, then `writes` entries. */
async function journalOf(keys: number, writes: number) {
  const host = seeded(keys);
  const journal = new Journal(file, host);
  journal.start();
  await journal.sync();
  const states = [state(host)];
  for (let i = 0; i < writes; i++) {
    command(host, journal, `w${i}`, i % 3 === 0 ? 'incr' : 'set', i % 3 === 0 ? { key: 'n', by: 1 } : { key: `x${i}`, value: 'v'.repeat(i % 50) });
    journal.write();
    states.push(state(host));
  }
  await journal.close();
  return { host, states };
}

function replay() {
  const h = kvHost();
  replayJournal(file, h);
  return h;
}

describe('journal replay', () => {
  it('a torn tail is cut, logged, and every complete record is kept', async () => {
    const { states } = await journalOf(50, 20);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 3);
    const logged: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (logged.push(String(chunk)), true));
    expect(state(replay())).toEqual(states[19]);
    expect(logged.join('')).toMatch(/journal-tail-cut .*offset=\d+ bytes=\d+/);
  });

  it('a zero-filled tail (a power cut after the file grew) is a torn tail too', async () => {
    const { states } = await journalOf(10, 5);
    fs.appendFileSync(file, Buffer.alloc(4096));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(state(replay())).toEqual(states[5]);
  });

  it('a flipped byte with valid records after it refuses the replay and leaves the file as it was', async () => {
    await journalOf(200, 200);
    const before = fs.readFileSync(file);
    for (const at of [12, Math.floor(before.length / 2)]) {
      const damaged = Buffer.from(before);
      damaged[at] = (damaged[at] as number) ^ 0x40;
      fs.writeFileSync(file, damaged);
      let err: unknown;
      try {
        replay();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JournalCorruptError);
      const c = err as JournalCorruptError;
      expect(c.offset).toBeLessThanOrEqual(at);
      expect(c.message).toContain(file);
      expect(c.message).toContain(`byte ${c.offset}`);
      expect(c.message.split('\n')).toHaveLength(1);
      expect(fs.readFileSync(file).equals(damaged)).toBe(true);
    }
  });

  it('an entry out of sequence is corruption, not a tail', async () => {
    await journalOf(5, 3);
    const data = fs.readFileSync(file);
    // Append a valid record whose seq skips ahead: CRC-valid, so never a torn write.
    const body = Buffer.alloc(17 + 2);
    body[0] = 0x57;
    body.writeDoubleLE(999, 1);
    body.writeDoubleLE(0, 9);
    body.write('{}', 17);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(body.length, 0);
    head.writeUInt32LE(crc32(body), 4);
    fs.writeFileSync(file, Buffer.concat([data, head, body]));
    expect(() => replay()).toThrow(JournalCorruptError);
  });

  it('replays the whole-snapshot journal of earlier versions', () => {
    fs.writeFileSync(
      file,
      Buffer.concat([
        legacy({ snapshot: { commitSeq: 2, kv: [['c', '5']], dedup: [['x', { id: 'x', ok: true, result: 5 }]] } }),
        legacy({ write: { seq: 3, req: { id: 'y', op: 'incr', key: 'c' } } }),
      ]),
    );
    const h = replay();
    expect(h.seq).toBe(3);
    expect(h.state.map.get('c')).toBe('6');
    // A reply recorded before digests existed answers any retry of its id.
    expect(h.lookup('x', 'anything')).toEqual({ reply: { id: 'x', ok: true, result: 5 } });
    expect(h.dedup.get('y')?.reply).toEqual({ id: 'y', ok: true, result: 6 });
  });

  it('replays a checkpoint of the previous binary version: records with their lengths before each, a JSON dedup part', () => {
    const rec = (k: string, v: string) => Buffer.concat([Buffer.from([k.length * 2, v.length * 2]), Buffer.from(k + v)]);
    const header = { v: 1, seq: 2, now: 1000, form: 'parts', service: 'kv', timers: [] };
    const dedup = [['x', 'AAAAAAAAAAAAAAAA', { id: 'x', ok: true, result: 'OK' }], ['y', 'BBBBBBBBBBBBBBBB', { id: 'y', ok: true, result: 5 }]];
    const entry = { id: 'z', op: 'incr', args: { key: 'n' }, digest: requestDigest('incr', '{"key":"n"}'), seq: 3, at: 2000 };
    fs.writeFileSync(
      file,
      Buffer.concat([
        encodeRecord(tagged(0x68, JSON.stringify(header)), TAG_PART),
        encodeRecord(tagged(0x62, Buffer.concat([Buffer.from([1, 2]), rec('a', '1'), rec('n', '5')])), TAG_PART),
        encodeRecord(tagged(0x64, JSON.stringify(dedup)), TAG_PART),
        encodeRecord(Buffer.alloc(0), TAG_END),
        encodeRecord(encodeEntry(entry)),
      ]),
    );
    const h = replay();
    expect(h.seq).toBe(3);
    expect([...h.state.map]).toEqual([['a', '1'], ['n', '6']]);
    expect([...h.dedup.entries()].map(([id, r]) => [id, r.digest, r.reply])).toEqual([...dedup, ['z', entry.digest, { id: 'z', ok: true, result: 6 }]]);
  });

  it("replays the fuzzy checkpoint of earlier versions by the writes' recorded effects", () => {
    // The checkpoint read 'n' after write 2 had made it 42; write 3 failed on 's'.
    fs.writeFileSync(
      file,
      Buffer.concat([
        legacy({ begin: { commitSeq: 0 } }),
        legacy({ write: { seq: 1, req: { id: 'a', op: 'set', key: 'n', value: '41' }, reply: { id: 'a', ok: true, result: 'OK' } } }),
        legacy({ write: { seq: 2, req: { id: 'b', op: 'incr', key: 'n', by: 1 }, reply: { id: 'b', ok: true, result: 42 } } }),
        legacy({ kv: [['n', '42'], ['s', 'text']] }),
        legacy({ write: { seq: 3, req: { id: 'c', op: 'incr', key: 's' }, reply: { id: 'c', ok: false, error: { code: 'WRONG_TYPE', message: 'no' } } } }),
        legacy({ dedup: [['old', { id: 'old', ok: true, result: 1 }]] }),
        legacy({ write: { seq: 4, req: { id: 'd', op: 'del', key: 's' }, reply: { id: 'd', ok: true, result: 1 } } }),
      ]),
    );
    const h = replay();
    expect(h.seq).toBe(4);
    expect([...h.state.map]).toEqual([['n', '42']]);
    expect([...h.dedup.entries()].map(([id]) => id)).toEqual(['old', 'a', 'b', 'c', 'd']);
    expect(h.dedup.get('b')?.reply).toEqual({ id: 'b', ok: true, result: 42 });
    expect(h.dedup.get('c')?.reply.ok).toBe(false);
  });
});

function legacy(o: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(o));
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}
