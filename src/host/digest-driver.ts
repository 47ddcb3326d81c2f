// The primary asks its standby to compare state digests: when the standby becomes in sync,
// and every few seconds while commands flow. The check is an entry in the log, so both sides
// compute their digest at the same commit point.
import type { Reply } from '../protocol/wire.js';
import type { ServiceHost } from './host.js';

/** Comfortably inside the contract's "at least every 10 s while commands flow". */
export const DIGEST_INTERVAL_MS = 4000;
// A check holds commands while each side hashes its state: a large state is checked less
// often, so that holding costs at most about 1/DUTY_FACTOR of the time.
const DUTY_FACTOR = 25;
const POLL_MS = 250;

export class DigestDriver {
  private readonly poll: NodeJS.Timeout;
  private wasInSync = false;
  private lastSeq = -1;
  private lastAt = 0;
  private busy = false;
  private n = 0;
  /** The time between checks: the interval, or more for a state that takes long to hash. */
  private gapMs = DIGEST_INTERVAL_MS;

  constructor(
    private readonly host: ServiceHost<unknown>,
    private readonly inSync: () => boolean,
    private readonly submit: (id: string) => Promise<Reply>,
  ) {
    this.poll = setInterval(() => this.tick(), POLL_MS);
    this.poll.unref();
  }

  /** Checks now if a check is due (called on each poll, and when the standby comes in sync). */
  tick(): void {
    const inSync = this.inSync();
    const justSynced = inSync && !this.wasInSync;
    this.wasInSync = inSync;
    if (!inSync || this.busy) return;
    const flowing = this.host.seq > this.lastSeq && Date.now() - this.lastAt >= this.gapMs;
    if (!justSynced && !flowing) return;
    this.busy = true;
    this.lastAt = Date.now();
    this.lastSeq = this.host.seq + 1;
    const started = Date.now();
    const done = (): void => {
      this.busy = false;
      this.gapMs = Math.max(DIGEST_INTERVAL_MS, DUTY_FACTOR * (Date.now() - started));
    };
    this.submit(`@d${process.pid}.${Date.now()}.${this.n++}`).then(done, done);
  }

  close(): void {
    clearInterval(this.poll);
  }
}
