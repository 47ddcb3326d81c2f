// Poison quarantine: before applying a request the primary notes which one it is in a small
// file of the data dir; if the process dies or hangs there, the next primary finds the note
// and counts a strike. A request with two strikes is answered POISONED, never applied again.
import fs from 'node:fs';
import path from 'node:path';
import { logLine } from '../log.js';

/** Strikes after which a request is quarantined. */
export const POISON_STRIKES = 2;
const ACTIVE = 0x41; // 'A': a request is being applied
const DONE = Buffer.from('D');

export class Quarantine {
  private readonly strikes = new Map<string, number>();
  private readonly file: string;
  private readonly markFile: string;
  private fd: number | null = null;
  private doneScheduled = false;

  constructor(dataDir: string) {
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
    if (b[0] !== ACTIVE) return;
    const nl = b.indexOf(0x0a);
    let mark: { id?: unknown; digest?: unknown };
    try {
      mark = JSON.parse(b.subarray(1, nl < 0 ? b.length : nl).toString('utf8')) as typeof mark;
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

  /** Notes the request about to be applied; cleared once the current batch of work is over. */
  before(id: string, digest: string): void {
    this.fd ??= fs.openSync(this.markFile, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
    const b = Buffer.from(`A${JSON.stringify({ id, digest })}\n`);
    fs.writeSync(this.fd, b, 0, b.length, 0);
    if (!this.doneScheduled) {
      this.doneScheduled = true;
      // Runs only if the event loop comes back: not after a crash or a hang inside a handler.
      setImmediate(() => this.done());
    }
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
