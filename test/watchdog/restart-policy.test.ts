import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../dist/watchdog/restart-policy.js';

describe('restart intensity', () => {
  it('allows N restarts within the window and refuses the N+1th', () => {
    let now = 0;
    const p = new RestartPolicy(5, 60_000, () => now);
    for (let i = 0; i < 5; i++) {
      now += 1000;
      expect(p.allow()).toBe(true);
    }
    now += 1000;
    expect(p.allow()).toBe(false);
  });

  it('forgets restarts older than the window', () => {
    let now = 0;
    const p = new RestartPolicy(2, 10_000, () => now);
    expect(p.allow()).toBe(true);
    expect(p.allow()).toBe(true);
    now += 10_001;
    expect(p.allow()).toBe(true);
    expect(p.recent).toBe(1);
  });
});
