import type { InstanceStatus } from '../protocol/admin.js';
import type { Notifier } from './notify.js';

/** The part of the watchdog's `status` reply that systemd is told about. */
export type TreeView = Pick<InstanceStatus, 'phase' | 'epoch' | 'processes'>;

export interface SystemdLinkOptions {
  notifier: Notifier;
  /** The tree as the watchdog reports it, or null while no watchdog answers. */
  probe: () => Promise<TreeView | null>;
  probeIntervalMs?: number;
}

export const DEFAULT_PROBE_INTERVAL_MS = 1000;

/** What `systemctl status` shows: the servers' roles, pids and states, and the epoch. */
export function statusLine(tree: TreeView | null): string {
  if (tree === null) return 'no watchdog answers; the servers keep serving while a new one starts';
  const servers = tree.processes
    .filter((p) => p.role === 'primary' || p.role === 'secondary')
    .map((p) => `${p.role} ${p.pid} ${p.state}`);
  return `${servers.length > 0 ? servers.join(', ') : 'no servers'}; epoch ${tree.epoch}; ${tree.phase}`;
}

function primaryAnswers(tree: TreeView | null): boolean {
  return tree?.processes.some((p) => p.role === 'primary' && p.state === 'ready') ?? false;
}

/**
 * The launcher's side of Type=notify: WATCHDOG=1 from a timer of its own (never from the
 * osps watchdog, so a flapping watchdog cannot make systemd kill the cgroup), READY=1 once
 * the primary answers, STATUS= whenever the roles or the epoch change.
 */
export class SystemdLink {
  private readonly timers: NodeJS.Timeout[] = [];
  private isReady = false;
  private lastStatus: string | null = null;
  private probing = false;
  private stopped = false;

  constructor(private readonly o: SystemdLinkOptions) {}

  start(): this {
    const { notifier } = this.o;
    if (notifier.keepAliveMs !== null) {
      notifier.watchdog();
      // Unref'd: the keep-alive must never be what keeps a finished launcher running.
      this.timers.push(setInterval(() => notifier.watchdog(), notifier.keepAliveMs).unref());
    }
    this.timers.push(setInterval(() => void this.refresh(), this.o.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS).unref());
    void this.refresh();
    return this;
  }

  /** Probes now (the launcher may call it on a watchdog event) and tells systemd what changed. */
  async refresh(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    try {
      const tree = await this.o.probe().catch(() => null);
      if (this.stopped) return;
      const line = statusLine(tree);
      if (!this.isReady && primaryAnswers(tree)) {
        this.isReady = true;
        this.lastStatus = line;
        this.o.notifier.ready(line);
      } else if (line !== this.lastStatus) {
        this.lastStatus = line;
        this.o.notifier.status(line);
      }
    } finally {
      this.probing = false;
    }
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** STOPPING=1, then silence: called once the launcher begins a stop. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.o.notifier.stopping();
    this.o.notifier.close();
  }
}
