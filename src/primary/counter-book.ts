// What the serving primary counts for the watchdog's metrics (ServerCounters): one map
// increment per write applied or error answered; the report is built once per pong.
import { MAX_COUNTER_LABELS } from '../protocol/server-metrics.js';

type Tally = Map<string, number>;

export class CounterBook {
  private readonly writes: Tally = new Map();
  private readonly errors: Tally = new Map();

  /** A client command applied (timers and digest checks are the host's, not counted). */
  write(op: string): void {
    bump(this.writes, op);
  }

  /** A request answered with an error, by its code. */
  error(code: string): void {
    bump(this.errors, code);
  }

  get writesByOp(): Record<string, number> {
    return Object.fromEntries(this.writes);
  }

  get errorsByCode(): Record<string, number> {
    return Object.fromEntries(this.errors);
  }
}

/** At most MAX_COUNTER_LABELS keys, `other` among them: a service with many ops cannot grow the pong. */
function bump(t: Tally, key: string): void {
  const n = t.get(key);
  if (n !== undefined) t.set(key, n + 1);
  else if (t.size < MAX_COUNTER_LABELS - 1) t.set(key, 1);
  else t.set('other', (t.get('other') ?? 0) + 1);
}
