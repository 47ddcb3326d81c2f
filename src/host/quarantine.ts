// Poison quarantine: before applying a request the primary notes which one it is in a small
// file of the data dir; if the process dies or hangs there, the next primary finds the note
// and counts a strike. A request with two strikes is answered POISONED, never applied again.
//
// A journal replay re-applies up to millions of entries, and one write per entry would cost
// more than the entries themselves. So a replay notes a range of entries at a time; a replay
// that dies inside a range leaves that range as a suspect (a file of its own), and the next
// replay notes each entry of it one by one, so the entry that kills it again gets its strike.
import fs from 'node:fs';
import path from 'node:path';
import { logLine } from '../log.js';

/** Strikes after which a request is quarantined. */
export const POISON_STRIKES = 2;
const ACTIVE = 0x41; // 'A': a request is being applied
const RANGE = 0x52; // 'R': a replay is applying a range of entries
const DONE = Buffer.from('D');
/** Entries a replay applies under one note. */
const REPLAY_RANGE = 4096;

interface Mark {
  id?: unknown;
  digest?: unknown;
  seq?: unknown;
  from?: unknown;
  to?: unknown;
}

export class Quarantine {
  private readonly strikes = new Map<string, number>();
  private readonly file: string;
  private readonly markFile: string;
  private readonly suspectFile: string;
  private fd: number | null = null;
  private doneScheduled = false;
  /** Entries a replay notes one by one: where an earlier replay or primary died. */
  private suspect: { from: number; to: number } | null = null;
  /** While a replay runs: the last seq its current range note covers (-1: the note is not a range). */
  private replayNoteTo: number | null = null;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'quarantine.json');
    this.markFile = path.join(dataDir, 'applying');
    this.suspectFile = path.join(dataDir, 'replay-suspect');
    try {
      const o = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, number>;
      for (const [k, v] of Object.entries(o)) if (Number.isInteger(v)) this.strikes.set(k, v);
    } catch {
      // none yet (or unreadable: start counting afresh)
    }
    try {
      const s = JSON.parse(fs.readFileSync(this.suspectFile, 'utf8')) as { from?: unknown; to?: unknown };
      if (Number.isSafeInteger(s.from) && Number.isSafeInteger(s.to)) this.suspect = { from: s.from as number, to: s.to as number };
    } catch {
      // no suspect range
    }
  }

  /** Counts a strike for the request a predecessor was applying when it died or hung. */
  strikeLeftover(): void {
    let b: Buffer;
    try {
      b = fs.readFileSync(this.markFile);
    } catch {
      return;
    }
    if (b[0] !== ACTIVE && b[0] !== RANGE) return;
    const nl = b.indexOf(0x0a);
    let mark: Mark;
    try {
      mark = JSON.parse(b.subarray(1, nl < 0 ? b.length : nl).toString('utf8')) as Mark;
    } catch {
      return;
    }
    if (b[0] === RANGE) {
      // A replay died somewhere in this range: the next one notes its entries one by one.
      if (Number.isSafeInteger(mark.from) && Number.isSafeInteger(mark.to)) this.suspectRange(mark.from as number, mark.to as number);
      fs.writeFileSync(this.markFile, DONE, { mode: 0o600 });
      return;
    }
    if (typeof mark.id !== 'string' || typeof mark.digest !== 'string') return;
    const key = `${mark.id}\0${mark.digest}`;
    const n = (this.strikes.get(key) ?? 0) + 1;
    this.strikes.set(key, n);
    fs.writeFileSync(this.file, JSON.stringify(Object.fromEntries(this.strikes)), { mode: 0o600 });
    // A replay of the journal meets this entry again: it is noted on its own there.
    if (Number.isSafeInteger(mark.seq)) this.suspectRange(mark.seq as number, mark.seq as number);
    fs.writeFileSync(this.markFile, DONE, { mode: 0o600 });
    logLine('primary', n >= POISON_STRIKES ? 'request-quarantined' : 'request-strike', { id: mark.id, strikes: n });
  }

  private suspectRange(from: number, to: number): void {
    this.suspect = this.suspect ? { from: Math.min(from, this.suspect.from), to: Math.max(to, this.suspect.to) } : { from, to };
    fs.writeFileSync(this.suspectFile, JSON.stringify(this.suspect), { mode: 0o600 });
  }

  poisoned(id: string, digest: string): boolean {
    return this.strikes.size > 0 && (this.strikes.get(`${id}\0${digest}`) ?? 0) >= POISON_STRIKES;
  }

  /** From here until endReplay, `before` notes ranges of entries except where a death is suspected. */
  beginReplay(): void {
    this.replayNoteTo = -1;
  }

  /** The replay went through: its suspects are cleared (the entries that killed it are quarantined). */
  endReplay(): void {
    this.replayNoteTo = null;
    if (this.suspect) {
      this.suspect = null;
      fs.rmSync(this.suspectFile, { force: true });
    }
    this.done();
  }

  /** Notes the request about to be applied (entry `seq`); cleared once the current batch of work is over. */
  before(id: string, digest: string, seq = -1): void {
    if (this.replayNoteTo !== null) {
      const s = this.suspect;
      if (!s || seq < s.from || seq > s.to) {
        if (this.replayNoteTo < 0 || seq > this.replayNoteTo) {
          this.replayNoteTo = seq + REPLAY_RANGE - 1;
          this.note(`R${JSON.stringify({ from: seq, to: this.replayNoteTo })}\n`);
        }
        return;
      }
      // A suspect entry is noted on its own, and the next range note starts afresh after it.
      this.replayNoteTo = -1;
    }
    this.note(`A${JSON.stringify({ id, digest, seq })}\n`);
    if (!this.doneScheduled && this.replayNoteTo === null) {
      this.doneScheduled = true;
      // Runs only if the event loop comes back: not after a crash or a hang inside a handler.
      setImmediate(() => this.done());
    }
  }

  private note(s: string): void {
    this.fd ??= fs.openSync(this.markFile, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
    const b = Buffer.from(s);
    fs.writeSync(this.fd, b, 0, b.length, 0);
  }

  done(): void {
    this.doneScheduled = false;
    if (this.fd !== null) fs.writeSync(this.fd, DONE, 0, 1, 0);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
