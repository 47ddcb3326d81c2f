import type { Json } from '../protocol/wire.js';
import type { CommandContext } from './service.js';
import type { TimerChanges } from './timers.js';
import { mulberry32 } from '../protocol/prng.js';

/**
 * `ctx` of a command or a timer: `now` and the seed of `random` come from the entry, so the
 * primary, the standby and a replay see the same values. Timer calls are collected and kept
 * only if the handler returns.
 */
export class EntryContext implements CommandContext {
  private rnd: (() => number) | null = null;

  constructor(
    readonly now: number,
    readonly requestId: string,
    private readonly seq: number,
    private readonly timers: TimerChanges,
  ) {}

  random(): number {
    this.rnd ??= mulberry32(Math.imul(this.seq, 0x9e3779b1) ^ this.now);
    return this.rnd();
  }

  schedule(timer: string, delayMs: number, payload?: Json): string {
    return this.timers.schedule(timer, delayMs, payload);
  }

  cancel(timerId: string): boolean {
    return this.timers.cancel(timerId);
  }
}
