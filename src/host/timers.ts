// Pending timers: part of the replicated state, like the service's own. A command or timer
// schedules them through ctx; the primary fires a due one as a log entry of its own.
import type { Command } from '../protocol/replication.js';
import type { Json } from '../protocol/wire.js';

/** The op of a timer's log entry: not a valid service op name, so no client can send it. */
export const TIMER_OP = '@timer';
/** The op of a digest check: carries the primary's state digest at the position before it. */
export const DIGEST_OP = '@digest';

export interface PendingTimer {
  id: string;
  timer: string;
  /** `ctx.now` of the entry that scheduled it plus its delay. */
  due: number;
  payload: Json;
  /** Creation order (log position, then call order): fires ties in the order they were scheduled. */
  seq: number;
  k: number;
}

/** The entry that fires timer `id`: applied like a command, on every copy, in log order. */
export function timerCommand(id: string): Command {
  return { id, op: TIMER_OP, args: null, digest: 'timer' };
}

/** Due order, ties in creation order. */
export function byDue(a: PendingTimer, b: PendingTimer): number {
  return a.due - b.due || a.seq - b.seq || a.k - b.k;
}

/**
 * The schedule and cancel calls of one handler: applied to the pending set only if the
 * handler returns, so a handler that throws leaves the timers as they were.
 */
export class TimerChanges {
  // Made at the first schedule or cancel: most commands call neither, and every one has a TimerChanges.
  private added: Map<string, PendingTimer> | null = null;
  private removed: Set<string> | null = null;
  private k = 0;

  constructor(
    private readonly pending: ReadonlyMap<string, PendingTimer>,
    private readonly known: (timer: string) => boolean,
    private readonly seq: number,
    private readonly now: number,
  ) {}

  schedule(timer: string, delayMs: number, payload?: Json): string {
    if (typeof timer !== 'string' || !this.known(timer)) throw new Error(`ctx.schedule: no timer '${String(timer).slice(0, 64)}' in this service's timers`);
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs)) throw new Error('ctx.schedule: delayMs must be a finite number');
    // A copy: the state may change the object later, the pending timer must not.
    const copy = payload === undefined ? null : (JSON.parse(JSON.stringify(payload)) as Json);
    const k = this.k++;
    const id = `@t${this.seq}.${k}`;
    (this.added ??= new Map()).set(id, { id, timer, due: this.now + Math.max(0, delayMs), payload: copy ?? null, seq: this.seq, k });
    return id;
  }

  cancel(id: string): boolean {
    if (typeof id !== 'string') return false;
    if (this.added?.delete(id)) return true;
    if (this.pending.has(id) && !this.removed?.has(id)) {
      (this.removed ??= new Set()).add(id);
      return true;
    }
    return false;
  }

  get empty(): boolean {
    return !this.added?.size && !this.removed?.size;
  }

  applyTo(pending: Map<string, PendingTimer>): void {
    if (this.removed) for (const id of this.removed) pending.delete(id);
    if (this.added) for (const [id, t] of this.added) pending.set(id, t);
  }
}
