// The poison note a primary leaves while it applies: one request, or a batch and a cursor
// that outlives the process. Its successor strikes exactly the request it died on.
// Across a journal replay: the replay notes ranges of entries, not each one; a replay that
// dies in a range makes the next replay note that range entry by entry, so the entry that
// kills it is struck, twice, and then quarantined.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BatchCursor, Quarantine } from '../../dist/host/quarantine.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-test-quarantine-'));
  dirs.push(d);
  return d;
}

/** Stands for the shm words: a value that survives the Quarantine object that set it. */
function cell(): BatchCursor {
  let v = { batch: 0, index: 0 };
  return { set: (batch, index) => void (v = { batch, index }), get: () => v };
}

const list = [
  { id: 'a', digest: 'da' },
  { id: 'b', digest: 'db' },
  { id: 'c', digest: 'dc' },
];

function strikesOf(dir: string): Record<string, number> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'quarantine.json'), 'utf8')) as Record<string, number>;
}

describe('Quarantine', () => {
  it('a batch is noted once; the successor strikes the command the cursor points at, twice makes it poisoned', () => {
    const dir = dataDir();
    const c = cell();
    for (let life = 1; life <= 2; life++) {
      const q = new Quarantine(dir, c);
      q.strikeLeftover();
      q.expect(list);
      q.before('a', 'da');
      // 'b' is a digest check (never noted): the cursor skips it.
      q.before('c', 'dc');
      q.close();
    }
    const next = new Quarantine(dir, c);
    next.strikeLeftover();
    expect(strikesOf(dir)).toEqual({ 'c\0dc': 2 });
    expect(next.poisoned('c', 'dc')).toBe(true);
    expect(next.poisoned('a', 'da')).toBe(false);
    next.close();
  });

  it('a batch note whose cursor is another batch strikes nobody', () => {
    const dir = dataDir();
    const q = new Quarantine(dir, cell());
    q.expect(list);
    q.before('b', 'db');
    q.close();
    // A fresh shm object (a whole-tree restart): the cursor does not name this note's batch.
    const next = new Quarantine(dir, cell());
    next.strikeLeftover();
    expect(fs.existsSync(path.join(dir, 'quarantine.json'))).toBe(false);
    next.close();
  });

  it('a command outside the noted batch (a timer) is noted on its own, and struck', () => {
    const dir = dataDir();
    const c = cell();
    const q = new Quarantine(dir, c);
    q.expect(list);
    q.before('a', 'da');
    q.before('@t1.0', 'tick');
    q.close();
    const next = new Quarantine(dir, c);
    next.strikeLeftover();
    expect(strikesOf(dir)).toEqual({ '@t1.0\0tick': 1 });
    next.close();
  });

  it('without a cursor every command is noted in the file; done() clears the note', () => {
    const dir = dataDir();
    const q = new Quarantine(dir);
    q.expect(list);
    q.before('b', 'db');
    q.close();
    const next = new Quarantine(dir);
    next.strikeLeftover();
    expect(strikesOf(dir)).toEqual({ 'b\0db': 1 });
    next.before('c', 'dc');
    next.done();
    next.close();
    const third = new Quarantine(dir);
    third.strikeLeftover();
    expect(strikesOf(dir)).toEqual({ 'b\0db': 1 });
    third.close();
  });
});

describe('Quarantine during a replay', () => {
  let dir: string;
  beforeEach(() => {
    dir = dataDir();
  });

  const mark = () => fs.readFileSync(path.join(dir, 'applying'), 'utf8');

  /** A replay of entries 1..n that dies (is abandoned without endReplay) while applying `dieAt`. */
  function replayDyingAt(dieAt: number, n = 20_000): Quarantine {
    const q = new Quarantine(dir);
    q.strikeLeftover();
    q.beginReplay();
    for (let seq = 1; seq <= n; seq++) {
      if (q.poisoned(`id${seq}`, 'd')) continue;
      q.before(`id${seq}`, 'd', seq);
      if (seq === dieAt) {
        q.close();
        return q;
      }
    }
    q.endReplay();
    q.close();
    return q;
  }

  it('notes ranges; a death there makes the next replay note each entry, and two deaths quarantine it', () => {
    replayDyingAt(9000);
    expect(mark()).toMatch(/^R\{"from":8193,"to":12288\}/);
    // The next start counts no strike for a range, but suspects it.
    const first = replayDyingAt(9000);
    expect(first.poisoned('id9000', 'd')).toBe(false);
    expect(mark()).toMatch(/^A\{"id":"id9000","digest":"d","seq":9000\}/);
    replayDyingAt(9000);
    const last = replayDyingAt(9000);
    expect(last.poisoned('id9000', 'd')).toBe(true);
    // That replay went through without the entry, and cleared the suspects.
    expect(fs.existsSync(path.join(dir, 'replay-suspect'))).toBe(false);
    expect(mark()).toMatch(/^D/);
  });

  it('an entry struck on a live primary is noted on its own by the next replay', () => {
    const live = new Quarantine(dir);
    live.before('id42', 'd', 42);
    live.close();
    const q = replayDyingAt(42);
    expect(q.poisoned('id42', 'd')).toBe(false);
    expect(mark()).toMatch(/^A\{"id":"id42"/);
    // Killed twice (live, then in the replay): the next replay goes through without it.
    expect(replayDyingAt(42).poisoned('id42', 'd')).toBe(true);
    expect(mark()).toMatch(/^D/);
  });

  it('a command struck in a batch note is noted on its own by the next replay', () => {
    const c = cell();
    const live = new Quarantine(dir, c);
    live.expect([{ id: 'id7', digest: 'd', seq: 7 }, { id: 'id8', digest: 'd', seq: 8 }]);
    live.before('id7', 'd', 7);
    live.before('id8', 'd', 8);
    live.close();
    const q = new Quarantine(dir, c);
    q.strikeLeftover();
    expect(strikesOf(dir)).toEqual({ 'id8\0d': 1 });
    q.beginReplay();
    q.before('id7', 'd', 7);
    expect(mark()).toMatch(/^R\{"from":7,/);
    q.before('id8', 'd', 8);
    expect(mark()).toMatch(/^A\{"id":"id8","digest":"d","seq":8\}/);
    q.endReplay();
    q.close();
    expect(fs.existsSync(path.join(dir, 'replay-suspect'))).toBe(false);
  });
});
