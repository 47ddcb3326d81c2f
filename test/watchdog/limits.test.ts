// The watchdog's and launcher's timing constants are tunables of Config, with their defaults.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../dist/config.js';
import { limitsOf } from '../../dist/watchdog/watchdog.js';

describe('timing constants in Config', () => {
  it('have their defaults and reach the supervision limits', () => {
    expect(DEFAULTS).toMatchObject({ heartbeatMs: 50, adoptionPingMs: 50, standbyReleaseMs: 2000, lateMessageMs: 300, standbySpawnDelayMs: 250, standbyCooldownMs: 5000, standbyCooldownMaxMs: 300_000, watchdogBackoffMs: 100, watchdogBackoffMaxMs: 5000 });
    const limits = limitsOf(resolveConfig({ heartbeatMs: 20, adoptionPingMs: 25, standbyReleaseMs: 900, lateMessageMs: 150, standbySpawnDelayMs: 90, standbyCooldownMs: 700, standbyCooldownMaxMs: 7000 }));
    expect(limits).toMatchObject({ heartbeatMs: 20, adoptionPingMs: 25, standbyReleaseMs: 900, lateMessageMs: 150, standbySpawnDelayMs: 90, standbyCooldownMs: 700, standbyCooldownMaxMs: 7000 });
  });
});
