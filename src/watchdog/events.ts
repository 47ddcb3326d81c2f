import fs from 'node:fs';
import { formatFields, type Fields } from '../log.js';
import type { EventName, WatchdogEvent } from '../protocol/events.js';

export type { EventName, WatchdogEvent };

const KEEP_IN_MEMORY = 200;

/**
 * Every step the watchdog takes, as one readable line on stdout and one JSON line in the
 * runtime dir, so `osps status` and a successor watchdog can read the history.
 */
export class EventLog {
  readonly recent: WatchdogEvent[] = [];

  constructor(
    private file: string | null,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  emit(event: EventName, fields: Fields = {}): WatchdogEvent {
    const e: WatchdogEvent = { ts: new Date().toISOString(), event, ...fields };
    this.recent.push(e);
    if (this.recent.length > KEEP_IN_MEMORY) this.recent.shift();
    this.out.write(`${e.ts.slice(11, 23)} ${event}${formatFields(fields)}\n`);
    if (this.file) {
      try {
        fs.appendFileSync(this.file, `${JSON.stringify(e)}\n`, { mode: 0o600 });
      } catch {
        // The runtime dir is gone during cleanup; the stdout line is enough then.
      }
    }
    return e;
  }

  /** Stops writing the JSON copy: the runtime dir is about to be removed. */
  detachFile(): void {
    this.file = null;
  }
}
