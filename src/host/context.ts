import type { Json } from '../protocol/wire.js';
import type { CommandContext } from './service.js';
import type { TimerChanges } from './timers.js';

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

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
