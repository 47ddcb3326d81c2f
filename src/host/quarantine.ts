// Poison quarantine: before applying a request the primary notes which one it is in a small
// file of the data dir; if the process dies or hangs there, the next primary finds the note
// and counts a strike. A request with two strikes is answered POISONED, never applied again.
//
// A batch of commands is noted once: the file lists them all, and before each one only a
// cursor moves, in memory that outlives the process (the shm header), so a write costs no
// system call of its own. Without the cursor (no shm), each command is noted in the file.
//
// A journal replay re-applies up to millions of entries, and one write per entry would cost
// more than the entries themselves. So a replay notes a range of entries at a time; a replay
// that dies inside a range leaves that range as a suspect (a file of its own), and the next
// replay notes each entry of it one by one, so the entry that kills it again gets its strike.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { logLine } from '../log.js';

/** Strikes after which a request is quarantined. */
export const POISON_STRIKES = 2;
const ACTIVE = 0x41; // 'A': a request is being applied
const BATCH = 0x42; // 'B': one of a batch of requests is being applied; the cursor says which
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

/** Where the primary is in the batch its note lists; kept where the next primary can read it. */
export interface BatchCursor {
  /** `index`: 1 + the position in the batch of the command being applied (0: none yet). */
  set(batch: number, index: number): void;
  get(): { batch: number; index: number };
}

interface Noted {
  id: string;
  digest: string;
  /** The entry's log position, when known: a strike makes it a suspect for the next replay. */
  seq?: number;
}

export class Quarantine {
  private readonly strikes = new Map<string, number>();
  private readonly file: string;
  private readonly markFile: string;
  private readonly suspectFile: string;
  private fd: number | null = null;
  private doneScheduled = false;
  /** The batch the note lists, and how far before() has come through it. */
  private listed: readonly Noted[] | null = null;
  private at = 0;
  private batch = randomInt(1, 0x7fffffff);
  /** Entries a replay notes one by one: where an earlier replay or primary died. */
  private suspect: { from: number; to: number } | null = null;
  /** While a replay runs: the last seq its current range note covers (-1: the note is not a range). */
  private replayNoteTo: number | null = null;

  constructor(
    dataDir: string,
    private readonly cursor: BatchCursor | null = null,
  ) {
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
    const nl = b.indexOf(0x0a);
    const body = b.subarray(1, nl < 0 ? b.length : nl).toString('utf8');
    let mark: Mark;
    try {
      if (b[0] === ACTIVE || b[0] === RANGE) mark = JSON.parse(body) as Mark;
      else if (b[0] === BATCH) mark = this.batchCulprit(JSON.parse(body) as { batch?: unknown; list?: unknown });
      else return;
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
    if (Number.isSafeInteger(mark.seq) && (mark.seq as number) >= 0) this.suspectRange(mark.seq as number, mark.seq as number);
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

  /**
   * The commands about to be applied, in order: noted in one write, after which before()
   * only moves the cursor for each of them. No-op without a cursor or for a single command.
   */
  expect(list: readonly Noted[]): void {
    if (!this.cursor || list.length < 2) return;
    this.batch = this.batch >= 0x7fffffff ? 1 : this.batch + 1;
    this.cursor.set(this.batch, 0);
    this.note(`B${JSON.stringify({ batch: this.batch, list: list.map((e) => [e.id, e.digest, e.seq ?? -1]) })}\n`);
    this.listed = list;
    this.at = 0;
    this.scheduleDone();
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
    } else if (this.listed) {
      const list = this.listed;
      // Applied in the order listed; some listed entries (digest checks) never come here.
      for (let i = this.at; i < list.length; i++) {
        const e = list[i] as Noted;
        if (e.id === id && e.digest === digest) {
          this.at = i + 1;
          (this.cursor as BatchCursor).set(this.batch, i + 1);
          return;
        }
      }
      // Not in the list (a timer's entry notes its timer): the file says which from here on.
      this.listed = null;
    }
    this.note(`A${JSON.stringify({ id, digest, seq })}\n`);
    if (this.replayNoteTo === null) this.scheduleDone();
  }

  private note(s: string): void {
    this.fd ??= fs.openSync(this.markFile, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
    const b = Buffer.from(s);
    fs.writeSync(this.fd, b, 0, b.length, 0);
  }

  private scheduleDone(): void {
    if (!this.doneScheduled) {
      this.doneScheduled = true;
      // Runs only if the event loop comes back: not after a crash or a hang inside a handler.
      setImmediate(() => this.done());
    }
  }

  /** The command of a batch note the cursor points at, if the cursor is this note's. */
  private batchCulprit(note: { batch?: unknown; list?: unknown }): Mark {
    const c = this.cursor?.get();
    if (!c || c.batch !== note.batch || c.index < 1 || !Array.isArray(note.list)) return {};
    const e = note.list[c.index - 1] as unknown;
    return Array.isArray(e) ? { id: e[0], digest: e[1], seq: e[2] } : {};
  }

  done(): void {
    this.doneScheduled = false;
    this.listed = null;
    if (this.fd !== null) fs.writeSync(this.fd, DONE, 0, 1, 0);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
