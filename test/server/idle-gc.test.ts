// A server collects its heap once after a burst of writes, and not while writes go on.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startIdleGc } from '../../dist/server/idle-gc.js';

async function majorGcsDuring(fn: () => Promise<void>): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) n++;
  });
  obs.observe({ entryTypes: ['gc'] });
  try {
    await fn();
    await sleep(50);
  } finally {
    obs.disconnect();
  }
  return n;
}

describe('idle gc', () => {
  it('collects once when many writes stop, never while they go on or after a few', async () => {
    let seq = 0;
    const stop = startIdleGc(() => seq, 100);
    try {
      const busy = await majorGcsDuring(async () => {
        for (let i = 0; i < 10; i++) {
          seq += 5000;
          await sleep(40);
        }
      });
      expect(busy).toBe(0);
      const idle = await majorGcsDuring(() => sleep(400));
      expect(idle).toBeGreaterThanOrEqual(1);
      seq += 10;
      const few = await majorGcsDuring(() => sleep(400));
      expect(few).toBe(0);
    } finally {
      stop();
    }
  });

  it('collects once after a snapshot of the whole state, though few writes came', async () => {
    let snapshots = 0;
    const stop = startIdleGc(() => 0, 100, () => snapshots);
    try {
      expect(await majorGcsDuring(() => sleep(300))).toBe(0);
      snapshots++;
      expect(await majorGcsDuring(() => sleep(400))).toBeGreaterThanOrEqual(1);
      expect(await majorGcsDuring(() => sleep(400))).toBe(0);
    } finally {
      stop();
    }
  });
});
