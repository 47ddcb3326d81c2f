// The contract between the watchdog and its observation endpoint: the watchdog is read
// through ObserverSource and pushes what it sees through ObserverSink.
import type { InstanceStatus } from '../protocol/admin.js';
import type { Role } from '../protocol/control.js';
import type { WatchdogEvent } from '../protocol/events.js';
import type { ServerCounters } from '../protocol/server-metrics.js';

/** Read on every scrape and every dashboard poll: must be cheap and never throw. */
export interface ObserverSource {
  status(): InstanceStatus;
}

/** Called by the watchdog as things happen; each call is O(1) and never throws. */
export interface ObserverSink {
  /** Every event the watchdog emits, right after it emits it. */
  onEvent(e: WatchdogEvent): void;
  /** Each pong's round trip, in ms. */
  observePingRtt(role: Role, ms: number): void;
  /** The counters a server put in its pong (a primary fills them). */
  observeServerCounters(role: Role, pid: number, c: ServerCounters): void;
}

export interface ObserverOptions {
  host: string;
  port: number;
  source: ObserverSource;
  /** Required to bind anything but loopback: the endpoint has no authentication. */
  allowNonLoopback?: boolean;
  /** How long to retry a port still held by a predecessor's closing socket (ms). */
  listenRetryMs?: number;
}

export interface Observer extends ObserverSink {
  /** `http://HOST:PORT/`, with the port actually bound (port 0 picks one). */
  readonly url: string;
  close(): Promise<void>;
}
