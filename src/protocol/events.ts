// The watchdog's event vocabulary: one closed set of names that the watchdog emits and
// the chaos checker, the tests, the benchmarks and `osps status` consume.

export const EVENT_NAMES = [
  'starting',
  'spawned',
  'ready',
  'synced',
  'standby',
  'ping-missed',
  'exited',
  'detected',
  'fenced',
  'promoted',
  // A promoted primary's first journal checkpoint is on disk: its first writes are acknowledged from here.
  'journaled',
  'respawned',
  'adopted',
  'memory-ceiling',
  'link-lost',
  'reclaimed',
  'repaired',
  'give-up',
  // A standby that kept dying is left out for a cool-down; the primary serves degraded.
  'standby-cooldown',
  // The standby's state digest differed from the primary's at one commit point: it is replaced.
  'diverged',
  'stopping',
  'stopped',
  'cleaned',
] as const;

export type EventName = (typeof EVENT_NAMES)[number];

/** Fields of an event or a log line: flat, so a line stays greppable. */
export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface WatchdogEvent extends Fields {
  ts: string;
  event: EventName;
}

/** Parses one line of the JSON event stream; null for anything that is not an event. */
export function parseEvent(line: string): WatchdogEvent | null {
  try {
    const o = JSON.parse(line) as Partial<WatchdogEvent>;
    if (typeof o !== 'object' || o === null || typeof o.ts !== 'string') return null;
    return (EVENT_NAMES as readonly string[]).includes(o.event as string) ? (o as WatchdogEvent) : null;
  } catch {
    return null;
  }
}
