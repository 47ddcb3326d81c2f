import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemdLink, statusLine, type TreeView } from '../../dist/systemd/link.js';
import { createNotifier } from '../../dist/systemd/notify.js';
import { fakeSystemd } from './fake-systemd.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tree(epoch: number, primary: string, secondary: string): TreeView {
  return {
    phase: 'running',
    epoch,
    processes: [
      { role: 'launcher', pid: 10, state: 'running', uptimeMs: 0, cpu: null, rss: null, lastPingRttMs: null, lastPongAgoMs: null, restarts: 0 },
      { role: 'primary', pid: 11, state: primary, uptimeMs: 0, cpu: null, rss: null, lastPingRttMs: null, lastPongAgoMs: null, restarts: 0 },
      { role: 'secondary', pid: 12, state: secondary, uptimeMs: 0, cpu: null, rss: null, lastPingRttMs: null, lastPongAgoMs: null, restarts: 0 },
    ],
  };
}

describe('SystemdLink', () => {
  it('keeps alive on its own timer, says READY=1 once the primary answers, STATUS= on each change, STOPPING=1 at the end', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-sdlink-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sockPath = path.join(dir, 'notify');
    const systemd = fakeSystemd(sockPath);
    cleanups.push(systemd.close);
    const notifier = await createNotifier({ NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '200000' }, () => {});
    expect(notifier?.keepAliveMs).toBe(100);
    let current: TreeView | null = null;
    // A long probe interval: the test drives refresh() itself; only the keep-alive ticks.
    const link = new SystemdLink({ notifier: notifier!, probe: async () => current, probeIntervalMs: 3_600_000 }).start();
    cleanups.push(() => link.stop());
    const others = (g: string[]): string[] => g.filter((m) => m !== 'WATCHDOG=1');

    await systemd.until((g) => others(g).length >= 1);
    expect(others(systemd.got)).toEqual([`STATUS=${statusLine(null)}`]);
    current = tree(1, 'starting', 'starting');
    await link.refresh();
    current = tree(1, 'ready', 'syncing');
    await link.refresh();
    await link.refresh(); // nothing changed: nothing sent
    current = tree(2, 'ready', 'starting');
    await link.refresh();
    await systemd.until((g) => others(g).length >= 4);
    expect(others(systemd.got)).toEqual([
      `STATUS=${statusLine(null)}`,
      'STATUS=primary 11 starting, secondary 12 starting; epoch 1; running',
      'READY=1\nSTATUS=primary 11 ready, secondary 12 syncing; epoch 1; running',
      'STATUS=primary 11 ready, secondary 12 starting; epoch 2; running',
    ]);
    expect(link.ready).toBe(true);

    // The keep-alive ticks with no probe at all: it is the launcher's own loop that systemd watches.
    const ticks = (await systemd.until((g) => g.filter((m) => m === 'WATCHDOG=1').length >= 4)).filter((m) => m === 'WATCHDOG=1');
    expect(ticks.length).toBeGreaterThanOrEqual(4);

    link.stop();
    const n = systemd.got.length;
    await systemd.until((g) => g.length > n);
    expect(systemd.got[systemd.got.length - 1]).toBe('STOPPING=1');
    await link.refresh(); // after stop: silence
    expect(others(systemd.got).at(-1)).toBe('STOPPING=1');
  });

  it('sends no keep-alive without WATCHDOG_USEC, READY=1 at the first probe that finds the primary answering', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-sdlink-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sockPath = path.join(dir, 'notify');
    const systemd = fakeSystemd(sockPath);
    cleanups.push(systemd.close);
    const notifier = await createNotifier({ NOTIFY_SOCKET: sockPath }, () => {});
    const link = new SystemdLink({ notifier: notifier!, probe: async () => tree(1, 'ready', 'in-sync') }).start();
    await systemd.waitFor(1);
    link.stop();
    await systemd.waitFor(2);
    expect(systemd.got).toEqual(['READY=1\nSTATUS=primary 11 ready, secondary 12 in-sync; epoch 1; running', 'STOPPING=1']);
  });
});
