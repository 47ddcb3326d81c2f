// The poison note a primary leaves while it applies: one request, or a batch and a cursor
// that outlives the process. Its successor strikes exactly the request it died on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
