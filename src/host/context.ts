import type { Json } from '../protocol/wire.js';
import type { CommandContext } from './service.js';

/**
 * `ctx` of a command: `now` and the seed of `random` come from the entry, so the primary,
 * the standby and a replay see the same values.
 */
export class EntryContext implements CommandContext {
  private rnd: (() => number) | null = null;

  constructor(
    readonly now: number,
    readonly requestId: string,
    private readonly seq: number,
  ) {}

  random(): number {
    this.rnd ??= mulberry32(Math.imul(this.seq, 0x9e3779b1) ^ this.now);
    return this.rnd();
  }

  schedule(timer: string, _delayMs: number, _payload?: Json): string {
    throw new Error(`ctx.schedule('${timer.slice(0, 64)}'): timers are not available in this version of osps`);
  }

  cancel(_timerId: string): boolean {
    throw new Error('ctx.cancel: timers are not available in this version of osps');
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
