// A server's exit code tells the watchdog why it stopped; the give-up message quotes it.
export const EXIT = {
  OK: 0,
  CONFIG: 64,
  RING_CORRUPT: 65,
  FENCED: 66,
  BIND_FAILED: 67,
  ORPHANED: 68,
  LINK_FAILED: 69,
  INTERNAL: 70,
  /** The journal is damaged beyond a torn tail; left untouched: `osps repair`, not a restart. */
  JOURNAL_CORRUPT: 71,
  /** A standby whose state differs from the primary's (a non-deterministic service): replaced by one synced afresh. */
  DIVERGED: 72,
} as const;

export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `signal ${signal}`;
  // An adopted server is not our child: we see that it died, not how.
  if (code === null) return 'exited (status unknown: not our child)';
  const name = Object.entries(EXIT).find(([, v]) => v === code)?.[0];
  return name ? `exit ${code} (${name})` : `exit ${code}`;
}

/** The exit code in a cause describeExit wrote (`exit 71 (JOURNAL_CORRUPT)` → 71), else null. */
export function exitCodeOf(cause: string | null): number | null {
  const m = /^exit (\d+)\b/.exec(cause ?? '');
  return m ? Number(m[1]) : null;
}

/** Exit codes of the watchdog and of `osps start` (docs/PROTOCOL.md): the CLI contract. */
export const EXIT_GAVE_UP = 3;
/** The watchdog could not start (refused or failed setup): restarting it would not help. */
export const EXIT_START_FAILED = 4;
/** A server refused the data as it is on disk (a corrupt journal): `osps start` exits 2 with its line. */
export const EXIT_DATA_REFUSED = 5;
