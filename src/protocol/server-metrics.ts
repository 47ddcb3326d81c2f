// What a serving primary reports about its own work in each pong, for the watchdog's
// metrics endpoint. Totals are cumulative since that server process started: the reader
// turns them into deltas, so a failover (a new process counting from zero) is no reset.

/** At most this many fsync samples travel in one report; a busier journal sends the latest. */
export const MAX_FSYNC_SAMPLES = 256;
/** At most this many distinct ops or error codes are kept; the rest count as `other`. */
export const MAX_COUNTER_LABELS = 32;

export interface ServerCounters {
  /** Writes applied since the process started, by operation (`set`, `del`, …). */
  writesByOp: Record<string, number>;
  /** Requests answered with an error since the process started, by error code. */
  errorsByCode: Record<string, number>;
  /** The last sequence number both copies hold (the commit point). */
  commitSeq: number;
  /** How far the standby trails: entries and bytes written but not yet acknowledged. */
  replicationLag: { entries: number; bytes: number };
  /** Journal fsync durations in ms since the previous report (newest last). */
  fsyncMs: number[];
}
