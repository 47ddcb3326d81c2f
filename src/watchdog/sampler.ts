import pidusage from 'pidusage';

export interface Sample {
  cpu: number;
  rss: number;
}

/** CPU % and RSS of each child (and the watchdog itself) every `intervalMs`. */
export class Sampler {
  self: { cpu: number | null; rss: number | null } = { cpu: null, rss: null };
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly intervalMs: number,
    private readonly children: () => { token: string; pid: number }[],
    private readonly onSample: (token: string, s: Sample) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const kids = this.children();
    try {
      // pidusage keeps /proc/PID/stat open until a pid goes unsampled for `maxage` (default
      // 60 s): a short one closes a replaced child's fd soon instead of one fd per re-pair.
      const stats = await pidusage([process.pid, ...kids.map((c) => c.pid)], { maxage: 2 * this.intervalMs });
      const mine = stats[process.pid];
      if (mine) this.self = { cpu: mine.cpu, rss: mine.memory };
      for (const c of kids) {
        const s = stats[c.pid];
        if (s) this.onSample(c.token, { cpu: s.cpu, rss: s.memory });
      }
    } catch {
      // A child exited between listing and sampling; the next round sees the new tree.
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    pidusage.clear();
  }
}
