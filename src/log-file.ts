// The JSON-lines log file of an instance: every watchdog event and every server log line,
// written through pino to `<data-dir>/logs/`, bounded by size. Each process writes files of
// its own (`osps.<start ms>.<pid>.<n>.log`), so no two writers share a file or race to
// rotate one; a file past `OSPS_LOG_FILE_BYTES` is closed and the next opened, and the
// oldest files of the dir beyond `OSPS_LOG_FILES` are removed. The dir comes from
// `OSPS_LOG_DIR`, which the watchdog sets for itself and its servers.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';

export const LOG_FILE_PATTERN = /^osps\.\d+\.\d+\.\d+\.log$/;

type Pino = typeof import('pino');
type Sonic = ReturnType<Pino['destination']>;

class RotatingFile {
  private n = 0;
  private written = 0;
  private sonic: Sonic;
  private readonly stamp = Date.now();

  constructor(
    private readonly pino: Pino,
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.sonic = pino.destination({ dest: this.next(), sync: true, mode: 0o600 });
  }

  private next(): string {
    this.n++;
    this.written = 0;
    const file = path.join(this.dir, `osps.${this.stamp}.${process.pid}.${this.n}.log`);
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    this.prune();
    return file;
  }

  /** Keeps the newest `maxFiles` files of the dir (names sort by start time, then pid, then n). */
  private prune(): void {
    const files = fs.readdirSync(this.dir).filter((f) => LOG_FILE_PATTERN.test(f));
    const order = (f: string) => f.split('.').slice(1, 4).map(Number);
    files.sort((a, b) => {
      const x = order(a);
      const y = order(b);
      return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
    });
    for (const f of files.slice(0, Math.max(0, files.length - this.maxFiles))) fs.rmSync(path.join(this.dir, f), { force: true });
  }

  write(line: string): boolean {
    if (this.written > 0 && this.written + line.length > this.maxBytes) this.sonic.reopen(this.next());
    this.written += Buffer.byteLength(line);
    return this.sonic.write(line);
  }
}

let logger: Logger | null | undefined;

function open(): Logger | null {
  const dir = process.env.OSPS_LOG_DIR;
  if (!dir) return null;
  try {
    // Loaded on first use: a process without a log dir (the CLI, tests) never loads pino.
    const pino = createRequire(import.meta.url)('pino') as Pino;
    const maxBytes = Number(process.env.OSPS_LOG_FILE_BYTES) || 10 * 1024 * 1024;
    const maxFiles = Number(process.env.OSPS_LOG_FILES) || 10;
    const dest = new RotatingFile(pino, dir, maxBytes, maxFiles);
    return pino({ base: { proc: process.pid }, timestamp: false, formatters: { level: (label) => ({ level: label }) } }, dest);
  } catch (err) {
    process.stderr.write(`osps: no log file in ${dir}: ${(err as Error).message}\n`);
    return null;
  }
}

/** Writes one record (`ts`, `kind`, `event`, fields) to the log file, if there is one. */
export function writeRecord(level: 'info' | 'warn', record: Record<string, unknown>): void {
  if (logger === undefined) logger = open();
  try {
    logger?.[level](record);
  } catch {
    // A full disk must not take a server down: the console line is still written.
  }
}
