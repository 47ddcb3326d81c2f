// How long each journal fdatasync took, kept until the primary reports them to the watchdog's
// metrics (once per ping). Bounded: a journal syncing faster than it reports keeps the newest.
import { MAX_FSYNC_SAMPLES } from '../protocol/server-metrics.js';

export class FsyncTimes {
  private samples: number[] = [];

  /** Resolves as `sync` does, after noting how long it took (a failed sync is not a sample). */
  timed<T>(sync: Promise<T>): Promise<T> {
    const t0 = performance.now();
    return sync.then((v) => {
      this.record(performance.now() - t0);
      return v;
    });
  }

  record(ms: number): void {
    if (this.samples.length >= MAX_FSYNC_SAMPLES) this.samples.shift();
    this.samples.push(ms);
  }

  /** The durations since the previous call, oldest first. */
  take(): number[] {
    const out = this.samples;
    this.samples = [];
    return out;
  }
}
