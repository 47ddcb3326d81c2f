// The dashboard's data: the watchdog's status, the event timeline and the server totals.
import type { InstanceStatus } from '../protocol/admin.js';
import type { WatchdogEvent } from '../protocol/events.js';
import type { ServerView } from './metrics.js';

const TIMELINE_EVENTS = 200;

/** The events this endpoint has seen, seeded with the ones the watchdog still holds. */
export class Timeline {
  readonly events: WatchdogEvent[];

  constructor(seed: ReadonlyArray<Record<string, unknown>>) {
    // The status holds events as plain records: keep the ones the page can place.
    this.events = seed.filter((e): e is WatchdogEvent => typeof e.ts === 'string' && typeof e.event === 'string').slice(-TIMELINE_EVENTS);
  }

  push(e: WatchdogEvent): void {
    this.events.push(e);
    if (this.events.length > TIMELINE_EVENTS) this.events.shift();
  }
}

export interface StatusReply {
  now: string;
  status: Omit<InstanceStatus, 'events'>;
  events: WatchdogEvent[];
  server: ServerView;
}

export function statusReply(s: InstanceStatus, timeline: Timeline, server: ServerView): StatusReply {
  const { events: _dropped, ...status } = s;
  return { now: new Date().toISOString(), status, events: timeline.events, server };
}
