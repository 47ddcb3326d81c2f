// Poison quarantine across a journal replay: the replay notes ranges of entries, not each
// one; a replay that dies in a range makes the next replay note that range entry by entry,
// so the entry that kills it is struck, twice, and then quarantined.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Quarantine } from '../../dist/host/quarantine.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-quarantine-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

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

describe('quarantine during a replay', () => {
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
});
