// One readable line per event on stderr (`OSPS_LOG=json` switches to JSON lines for machines),
// and a JSON record in the instance's log file (log-file.ts).
import type { Fields } from './protocol/events.js';
import { writeRecord } from './log-file.js';

export type { Fields };

// Routine server lines are for debugging (OSPS_VERBOSE=1); the watchdog's event lines are
// what an operator reads. Problems are always printed.
const ROUTINE = /^(ready|standby-|primary-link-gone|promoted|journal-replayed)/;

// Problems are logged at `warn` in the file, the rest at `info`.
const PROBLEM = /fail|error|lost|gone|refus|corrupt|reject/;

export function logLine(component: string, event: string, fields: Fields = {}): void {
  const ts = new Date().toISOString();
  // The log file keeps every line, routine ones included.
  writeRecord(PROBLEM.test(event) ? 'warn' : 'info', { ts, kind: 'log', component, event, ...fields });
  if (ROUTINE.test(event) && !process.env.OSPS_VERBOSE) return;
  if (process.env.OSPS_LOG === 'json') {
    process.stderr.write(`${JSON.stringify({ ts, component, event, ...fields })}\n`);
    return;
  }
  process.stderr.write(`${ts} ${component} ${event}${formatFields(fields)}\n`);
}

export function formatFields(fields: Fields): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = String(v);
    out += ` ${k}=${/[\s"]/.test(s) ? JSON.stringify(s) : s}`;
  }
  return out;
}
