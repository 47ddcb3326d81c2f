// Reading an instance's JSON-lines log files (src/log-file.ts), across every process and
// every start of the tree: records in time order, and new ones as they are written.
import fs from 'node:fs';
import path from 'node:path';
import { LOG_FILE_PATTERN } from '../log-file.js';
import { formatFields } from '../log.js';

export interface LogRecord {
  ts: string;
  kind?: string;
  event?: string;
  component?: string;
  role?: string;
  level?: string;
  [k: string]: unknown;
}

export interface LogFilter {
  sinceMs?: number;
  role?: string;
}

/** `10m`, `30s`, `2h`, `1d`, `500ms` → ms; null for anything else. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export function matches(r: LogRecord, f: LogFilter, now = Date.now()): boolean {
  if (f.sinceMs !== undefined && Date.parse(r.ts) < now - f.sinceMs) return false;
  if (f.role !== undefined && r.role !== f.role && r.component !== f.role) return false;
  return true;
}

/** One record as a person reads it: `2026-11-25 20:25:36.785 watchdog promoted role=primary …`. */
export function formatRecord(r: LogRecord): string {
  const { ts, kind, event, component, level, proc: _proc, ...fields } = r;
  const who = kind === 'event' ? 'watchdog' : (component ?? '?');
  const mark = level === 'warn' ? ' !' : '';
  return `${ts.replace('T', ' ').slice(0, 23)}${mark} ${who} ${event ?? ''}${formatFields(fields as Parameters<typeof formatFields>[0])}\n`;
}

/** Follows every log file of a dir: each `read()` returns the complete lines added since the last. */
export class LogTail {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly dir: string) {}

  read(): LogRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((f) => LOG_FILE_PATTERN.test(f));
    } catch {
      return [];
    }
    const out: LogRecord[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      const from = this.offsets.get(name) ?? 0;
      let chunk: Buffer;
      try {
        const fd = fs.openSync(file, 'r');
        try {
          const size = fs.fstatSync(fd).size;
          if (size <= from) continue;
          chunk = Buffer.alloc(size - from);
          fs.readSync(fd, chunk, 0, chunk.length, from);
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        continue; // removed by rotation meanwhile
      }
      this.offsets.set(name, from + chunk.length);
      const text = (this.partial.get(name) ?? '') + chunk.toString('utf8');
      const lines = text.split('\n');
      this.partial.set(name, lines.pop() ?? '');
      for (const line of lines) {
        try {
          const r = JSON.parse(line) as LogRecord;
          if (typeof r.ts === 'string') out.push(r);
        } catch {
          // a torn line of a process killed mid-write
        }
      }
    }
    // Stable sort by time: the records of several processes interleave as they happened.
    return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }
}
