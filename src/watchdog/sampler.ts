import pidusage from 'pidusage';
import type { Config } from '../config.js';
import type { Child } from './children.js';

/** CPU % and RSS of each child (and the watchdog itself) every `sampleIntervalMs`. */
export class Sampler {
  self: { cpu: number | null; rss: number | null } = { cpu: null, rss: null };
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly cfg: Config,
    private readonly children: () => Child[],
    private readonly onCeiling: (c: Child) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.cfg.sampleIntervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const kids = this.children();
    try {
      // pidusage keeps /proc/PID/stat open until a pid goes unsampled for `maxage` (default
      // 60 s): a short one closes a replaced child's fd soon instead of one fd per re-pair.
      const stats = await pidusage([process.pid, ...kids.map((c) => c.pid)], { maxage: 2 * this.cfg.sampleIntervalMs });
      const mine = stats[process.pid];
      if (mine) this.self = { cpu: mine.cpu, rss: mine.memory };
      for (const c of kids) {
        const s = stats[c.pid];
        if (!s) continue;
        c.cpu = s.cpu;
        c.rss = s.memory;
        if (this.cfg.memoryCeilingBytes > 0 && s.memory > this.cfg.memoryCeilingBytes) this.onCeiling(c);
      }
    } catch {
      // A child exited between listing and sampling; the next round sees the new tree.
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    pidusage.clear();
  }
}
