// Commands acknowledged once the journal has fsynced them (no standby in sync to ack them):
// in log order, and tried again while the journal cannot confirm them.
import type { Journal } from '../journal/journal.js';
import { errorReply } from '../protocol/wire.js';
import { tell, type InFlight } from './in-flight.js';

// How soon entries the journal could not confirm are tried again.
const JOURNAL_RETRY_MS = 1000;

export class JournalAcks {
  private pending: InFlight[] = [];
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly journal: Journal,
    /** Answers a command's callers. */
    private readonly settle: (f: InFlight) => void,
    /** Everything up to `seq` is committed. */
    private readonly committed: (seq: number) => void,
  ) {}

  /** Acknowledges `batch` (in log order, after any already waiting) once the journal has fsynced it. */
  add(batch: InFlight[]): void {
    for (const f of batch) this.pending.push(f);
    const last = this.pending[this.pending.length - 1];
    if (!last) return;
    const upTo = last.seq;
    this.journal.sync().then(
      () => {
        let n = 0;
        while (n < this.pending.length && (this.pending[n] as InFlight).seq <= upTo) this.settle(this.pending[n++] as InFlight);
        this.pending.splice(0, n);
        this.committed(upTo);
      },
      (err: Error) => {
        // Not durable, so not acknowledged: the callers hear UNAVAILABLE now. The entries are
        // applied, so they stay pending (a retry with the same id joins them rather than
        // reading an unconfirmed reply from the dedup window) until a later sync covers them.
        for (const f of this.pending) {
          if (f.seq > upTo) break;
          for (const w of f.waiters) tell(w, errorReply(f.reply.id, 'UNAVAILABLE', `journal not durable (${err.message}); retry with the same id`));
          f.waiters = [];
        }
        if (!this.retry && !this.closed) {
          this.retry = setTimeout(() => {
            this.retry = null;
            if (!this.closed) this.add([]);
          }, JOURNAL_RETRY_MS);
          this.retry.unref();
        }
      },
    );
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }
}
