import fs from 'node:fs';
import { processUsage } from '../runtime/proc.js';

/** Linux reports process times in USER_HZ, which is 100 on every architecture Node runs on. */
const USER_HZ = 100;

export interface Sample {
  cpu: number;
  rss: number;
}

/** Seconds since boot, the clock /proc start times count on. */
function uptimeSeconds(): number {
  try {
    return Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/**
 * CPU % and RSS of each child (and the watchdog itself) every `intervalMs`, read from /proc
 * in one synchronous turn: an idle watchdog wakes once per sample, not once per file read
 * (pidusage's async reads woke it a dozen times, and it cost the watchdog megabytes).
 */
export class Sampler {
  self: { cpu: number | null; rss: number | null } = { cpu: null, rss: null };
  private timer: NodeJS.Timeout | null = null;
  /** CPU ticks of each pid at its last sample: the next CPU % is over the time since. */
  private last = new Map<number, { ticks: number; at: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly children: () => { token: string; pid: number }[],
    private readonly onSample: (token: string, s: Sample) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = Date.now();
    const next = new Map<number, { ticks: number; at: number }>();
    const measure = (pid: number): Sample | null => {
      const u = processUsage(pid);
      if (!u) return null;
      const prev = this.last.get(pid);
      // A pid seen for the first time: its average since it started.
      const seconds = prev ? (now - prev.at) / 1000 : uptimeSeconds() - u.startTicks / USER_HZ;
      const ticks = u.cpuTicks - (prev?.ticks ?? 0);
      next.set(pid, { ticks: u.cpuTicks, at: now });
      return { cpu: seconds > 0 ? (ticks / USER_HZ / seconds) * 100 : 0, rss: u.rssBytes };
    };
    const mine = measure(process.pid);
    if (mine) this.self = mine;
    for (const c of this.children()) {
      const s = measure(c.pid);
      if (s) this.onSample(c.token, s);
    }
    // Pids no longer sampled are forgotten.
    this.last = next;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
