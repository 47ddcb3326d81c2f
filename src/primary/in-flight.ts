// What the commit pipeline and its journal acknowledgements share about a command in flight.
import { logLine } from '../log.js';
import type { Reply } from '../protocol/wire.js';

export type Waiter = { done: (r: Reply) => void; deadline: number };

/** A command applied on the primary, not yet acknowledged: waits for the standby's ack or the journal's fsync. */
export interface InFlight {
  seq: number;
  ringSeq: number;
  digest: string;
  reply: Reply;
  waiters: Waiter[];
}

/** A caller's callback runs inside the pipeline's loops: its failure must not break them. */
export function tell(w: Waiter, r: Reply): void {
  try {
    w.done(r);
  } catch (err) {
    logLine('primary', 'internal-error', { id: r.id, error: (err as Error).stack ?? String(err) });
  }
}
