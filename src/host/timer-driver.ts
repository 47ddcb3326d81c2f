// The primary's side of timers: when a pending timer falls due, submit its entry through the
// commit pipeline like a command, so the standby and the journal see it fire.
import type { Reply } from '../protocol/wire.js';
import type { ServiceHost } from './host.js';
import { byDue, type PendingTimer } from './timers.js';

/** A failed submission (no quorum, no journal) is tried again after this long. */
const RETRY_MS = 200;

export class TimerDriver {
  private handle: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  /** Timers whose entry is on its way: not submitted twice. */
  private readonly submitted = new Set<string>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly host: ServiceHost<unknown>,
    private readonly submit: (id: string) => Promise<Reply>,
  ) {}

  /** Every overdue timer (after a failover or restart, all of them) fires at once, in due order. */
  start(): void {
    this.unsubscribe = this.host.onTimers(() => this.arm());
    this.fireDue();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  }

  private arm(): void {
    if (this.closed) return;
    let next = Infinity;
    for (const t of this.host.timers.values()) if (t.due < next && !this.submitted.has(t.id)) next = t.due;
    if (next === this.armedFor && this.handle) return;
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
    this.armedFor = next;
    if (next === Infinity) return;
    // setTimeout's delay is capped at 2^31-1 ms; a later timer is re-armed when this one wakes.
    const delay = Math.min(Math.max(0, next - Date.now()), 2 ** 31 - 1);
    this.handle = setTimeout(() => {
      this.handle = null;
      this.armedFor = Infinity;
      this.fireDue();
    }, delay);
  }

  private fireDue(): void {
    if (this.closed) return;
    const now = Date.now();
    const due: PendingTimer[] = [];
    for (const t of this.host.timers.values()) if (t.due <= now && !this.submitted.has(t.id)) due.push(t);
    due.sort(byDue);
    for (const t of due) {
      this.submitted.add(t.id);
      this.submit(t.id).then((r) => {
        this.submitted.delete(t.id);
        // Not applied (UNAVAILABLE…): the timer is still pending; try again shortly.
        if (!r.ok && this.host.timers.has(t.id)) this.retryLater();
        else this.arm();
      }, () => {
        this.submitted.delete(t.id);
        this.retryLater();
      });
    }
    this.arm();
  }

  private retryLater(): void {
    if (this.closed || this.handle) return;
    this.handle = setTimeout(() => {
      this.handle = null;
      this.armedFor = Infinity;
      this.fireDue();
    }, RETRY_MS);
  }
}
