import fs from 'node:fs';
import type { EventFormat } from '../config.js';
import { formatFields, type Fields } from '../log.js';
import type { EventName, WatchdogEvent } from '../protocol/events.js';

export type { EventName, WatchdogEvent };

const KEEP_IN_MEMORY = 200;

/** One event as a stdout line: `HH:MM:SS.mmm event k=v …` for people, the JSON object for machines. */
export function formatEvent(e: WatchdogEvent, format: EventFormat): string {
  if (format === 'json') return `${JSON.stringify(e)}\n`;
  const { ts, event, ...fields } = e;
  return `${ts.slice(11, 23)} ${event}${formatFields(fields)}\n`;
}

/**
 * Every step the watchdog takes, as one line on stdout (readable, or JSON with
 * `--events json`) and one JSON line in the runtime dir, so `osps status` and a successor
 * watchdog can read the history.
 */
export class EventLog {
  readonly recent: WatchdogEvent[] = [];
  private readonly listeners: ((e: WatchdogEvent) => void)[] = [];

  constructor(
    private file: string | null,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly format: EventFormat = 'text',
  ) {}

  emit(event: EventName, fields: Fields = {}): WatchdogEvent {
    const e: WatchdogEvent = { ts: new Date().toISOString(), event, ...fields };
    this.recent.push(e);
    if (this.recent.length > KEEP_IN_MEMORY) this.recent.shift();
    this.out.write(formatEvent(e, this.format));
    if (this.file) {
      try {
        fs.appendFileSync(this.file, `${JSON.stringify(e)}\n`, { mode: 0o600 });
      } catch {
        // The runtime dir is gone during cleanup; the stdout line is enough then.
      }
    }
    for (const fn of this.listeners) fn(e);
    return e;
  }

  /** Calls `fn` with every event emitted from now on (the metrics endpoint, the log file). */
  subscribe(fn: (e: WatchdogEvent) => void): void {
    this.listeners.push(fn);
  }

  /** Stops writing the JSON copy: the runtime dir is about to be removed. */
  detachFile(): void {
    this.file = null;
  }
}
