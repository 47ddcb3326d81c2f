// Poison quarantine: before applying a request the primary notes which one it is in a small
// file of the data dir; if the process dies or hangs there, the next primary finds the note
// and counts a strike. A request with two strikes is answered POISONED, never applied again.
//
// A batch of commands is noted once: the file lists them all, and before each one only a
// cursor moves, in memory that outlives the process (the shm header), so a write costs no
// system call of its own. Without the cursor (no shm), each command is noted in the file.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { logLine } from '../log.js';

/** Strikes after which a request is quarantined. */
export const POISON_STRIKES = 2;
const ACTIVE = 0x41; // 'A': a request is being applied
const BATCH = 0x42; // 'B': one of a batch of requests is being applied; the cursor says which
const DONE = Buffer.from('D');

/** Where the primary is in the batch its note lists; kept where the next primary can read it. */
export interface BatchCursor {
  /** `index`: 1 + the position in the batch of the command being applied (0: none yet). */
  set(batch: number, index: number): void;
  get(): { batch: number; index: number };
}

interface Noted {
  id: string;
  digest: string;
}

export class Quarantine {
  private readonly strikes = new Map<string, number>();
  private readonly file: string;
  private readonly markFile: string;
  private fd: number | null = null;
  private doneScheduled = false;
  /** The batch the note lists, and how far before() has come through it. */
  private listed: readonly Noted[] | null = null;
  private at = 0;
  private batch = randomInt(1, 0x7fffffff);

  constructor(
    dataDir: string,
    private readonly cursor: BatchCursor | null = null,
  ) {
    this.file = path.join(dataDir, 'quarantine.json');
    this.markFile = path.join(dataDir, 'applying');
    try {
      const o = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, number>;
      for (const [k, v] of Object.entries(o)) if (Number.isInteger(v)) this.strikes.set(k, v);
    } catch {
      // none yet (or unreadable: start counting afresh)
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
    let mark: { id?: unknown; digest?: unknown };
    try {
      if (b[0] === ACTIVE) mark = JSON.parse(body) as typeof mark;
      else if (b[0] === BATCH) mark = this.batchCulprit(JSON.parse(body) as { batch?: unknown; list?: unknown });
      else return;
    } catch {
      return;
    }
    if (typeof mark.id !== 'string' || typeof mark.digest !== 'string') return;
    const key = `${mark.id}\0${mark.digest}`;
    const n = (this.strikes.get(key) ?? 0) + 1;
    this.strikes.set(key, n);
    fs.writeFileSync(this.file, JSON.stringify(Object.fromEntries(this.strikes)), { mode: 0o600 });
    fs.writeFileSync(this.markFile, DONE, { mode: 0o600 });
    logLine('primary', n >= POISON_STRIKES ? 'request-quarantined' : 'request-strike', { id: mark.id, strikes: n });
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
    this.openMark();
    this.batch = this.batch >= 0x7fffffff ? 1 : this.batch + 1;
    const b = Buffer.from(`B${JSON.stringify({ batch: this.batch, list: list.map((e) => [e.id, e.digest]) })}\n`);
    this.cursor.set(this.batch, 0);
    fs.writeSync(this.fd as number, b, 0, b.length, 0);
    this.listed = list;
    this.at = 0;
    this.scheduleDone();
  }

  /** Notes the request about to be applied; cleared once the current batch of work is over. */
  before(id: string, digest: string): void {
    const list = this.listed;
    if (list) {
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
    this.openMark();
    const b = Buffer.from(`A${JSON.stringify({ id, digest })}\n`);
    fs.writeSync(this.fd as number, b, 0, b.length, 0);
    this.scheduleDone();
  }

  private openMark(): void {
    this.fd ??= fs.openSync(this.markFile, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
  }

  private scheduleDone(): void {
    if (!this.doneScheduled) {
      this.doneScheduled = true;
      // Runs only if the event loop comes back: not after a crash or a hang inside a handler.
      setImmediate(() => this.done());
    }
  }

  /** The command of a batch note the cursor points at, if the cursor is this note's. */
  private batchCulprit(note: { batch?: unknown; list?: unknown }): { id?: unknown; digest?: unknown } {
    const c = this.cursor?.get();
    if (!c || c.batch !== note.batch || c.index < 1 || !Array.isArray(note.list)) return {};
    const e = note.list[c.index - 1] as unknown;
    return Array.isArray(e) ? { id: e[0], digest: e[1] } : {};
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
