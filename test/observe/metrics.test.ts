// Scrapes the endpoint over HTTP, as Prometheus would, and reads the exposition format.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startObserver, type Observer } from '../../dist/observe/index.js';
import { parseExposition, value, type Scrape } from './exposition.js';
import { ev, FakeSource, playFailover } from './fake-source.js';

let src: FakeSource;
let obs: Observer;

async function scrape(): Promise<Scrape> {
  const res = await fetch(new URL('metrics', obs.url));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

beforeEach(async () => {
  src = new FakeSource();
  obs = await startObserver({ host: '127.0.0.1', port: 0, source: src });
});
afterEach(() => obs.close());

describe('metrics endpoint', () => {
  it('exposes the osps_ metrics, typed and labelled, and nothing else', async () => {
    const s = await scrape();
    expect([...s.types.keys()].every((n) => n.startsWith('osps_'))).toBe(true);
    expect(Object.fromEntries(s.types)).toMatchObject({
      osps_up: 'gauge',
      osps_restarts_total: 'counter',
      osps_failovers_total: 'counter',
      osps_failures_detected_total: 'counter',
      osps_exits_total: 'counter',
      osps_events_total: 'counter',
      osps_ping_rtt_seconds: 'histogram',
      osps_commit_seq: 'gauge',
      osps_replication_lag_entries: 'gauge',
      osps_replication_lag_bytes: 'gauge',
      osps_writes_total: 'counter',
      osps_errors_total: 'counter',
      osps_journal_fsync_seconds: 'histogram',
      osps_process_resident_memory_bytes: 'gauge',
      osps_process_cpu_percent: 'gauge',
      osps_watchdog_timers: 'gauge',
      osps_standby: 'gauge',
      osps_epoch: 'gauge',
    });
    expect(value(s, 'osps_up', { role: 'primary' })).toBe(1);
    expect(value(s, 'osps_up', { role: 'secondary' })).toBe(1);
    expect(value(s, 'osps_up', { role: 'watchdog' })).toBe(1);
    expect(value(s, 'osps_process_resident_memory_bytes', { role: 'primary' })).toBe(40 << 20);
    expect(value(s, 'osps_process_cpu_percent', { role: 'secondary' })).toBe(1.5);
    expect(value(s, 'osps_standby', { state: 'in-sync' })).toBe(1);
    expect(value(s, 'osps_standby', { state: 'absent' })).toBe(0);
    expect(value(s, 'osps_commit_seq')).toBe(10);
    expect(value(s, 'osps_epoch')).toBe(1);
    expect(value(s, 'osps_watchdog_timers')).toBeGreaterThanOrEqual(0);
  });

  it('a failover moves the failover, detection, exit and restart counters', async () => {
    const before = await scrape();
    expect(value(before, 'osps_failovers_total', { role: 'primary', cause: 'crash' })).toBeUndefined();
    playFailover(src, obs, 'crash');
    const s = await scrape();
    expect(value(s, 'osps_failures_detected_total', { role: 'primary', cause: 'crash' })).toBe(1);
    expect(value(s, 'osps_failovers_total', { role: 'primary', cause: 'crash' })).toBe(1);
    expect(value(s, 'osps_exits_total', { role: 'primary', cause: 'signal SIGKILL' })).toBe(1);
    expect(value(s, 'osps_events_total', { event: 'promoted', role: 'primary' })).toBe(1);
    expect(value(s, 'osps_events_total', { event: 'respawned', role: 'secondary' })).toBe(1);
    expect(value(s, 'osps_restarts_total', { role: 'primary' })).toBe(1);
    expect(value(s, 'osps_restarts_total', { role: 'secondary' })).toBe(0);
    expect(value(s, 'osps_epoch')).toBe(2);
    expect(value(s, 'osps_standby', { state: 'syncing' })).toBe(1);
    playFailover(src, obs, 'hang');
    const again = await scrape();
    expect(value(again, 'osps_failovers_total', { role: 'primary', cause: 'hang' })).toBe(1);
    expect(value(again, 'osps_failovers_total', { role: 'primary', cause: 'crash' })).toBe(1);
  });

  it('ping round trips land in the per-role histogram', async () => {
    obs.observePingRtt('primary', 3);
    obs.observePingRtt('primary', 40);
    obs.observePingRtt('secondary', 700);
    const s = await scrape();
    expect(value(s, 'osps_ping_rtt_seconds_count', { role: 'primary' })).toBe(2);
    expect(value(s, 'osps_ping_rtt_seconds_sum', { role: 'primary' })).toBeCloseTo(0.043, 6);
    expect(value(s, 'osps_ping_rtt_seconds_bucket', { role: 'primary', le: '0.005' })).toBe(1);
    expect(value(s, 'osps_ping_rtt_seconds_bucket', { role: 'primary', le: '0.05' })).toBe(2);
    expect(value(s, 'osps_ping_rtt_seconds_bucket', { role: 'secondary', le: '0.5' })).toBe(0);
    expect(value(s, 'osps_ping_rtt_seconds_bucket', { role: 'secondary', le: '+Inf' })).toBe(1);
  });

  it('server counters add up across a new primary that counts from zero', async () => {
    const report = (pid: number, set: number, bad: number, fsyncMs: number[]) =>
      obs.observeServerCounters('primary', pid, { writesByOp: { set, del: 1 }, errorsByCode: { BAD_REQUEST: bad }, commitSeq: 50 + set, replicationLag: { entries: 3, bytes: 120 }, fsyncMs });
    report(101, 10, 1, [0.4, 2]);
    report(101, 15, 1, [30]);
    report(102, 4, 0, []); // the promoted secondary, counting from zero
    const s = await scrape();
    expect(value(s, 'osps_writes_total', { op: 'set' })).toBe(19);
    expect(value(s, 'osps_writes_total', { op: 'del' })).toBe(2);
    expect(value(s, 'osps_errors_total', { code: 'BAD_REQUEST' })).toBe(1);
    expect(value(s, 'osps_replication_lag_entries')).toBe(3);
    expect(value(s, 'osps_replication_lag_bytes')).toBe(120);
    expect(value(s, 'osps_commit_seq')).toBe(54);
    expect(value(s, 'osps_journal_fsync_seconds_count')).toBe(3);
    expect(value(s, 'osps_journal_fsync_seconds_bucket', { le: '0.0005' })).toBe(1);
    expect(value(s, 'osps_journal_fsync_seconds_bucket', { le: '0.025' })).toBe(2);
  });

  it('free-text causes and unknown roles become a few label values', async () => {
    obs.onEvent(ev('exited', { role: 'primary', pid: 1, cause: 'exit 9 (EXIT_FENCED)' }));
    obs.onEvent(ev('exited', { role: 'secondary', pid: 2, cause: 'exited (status unknown: not our child)' }));
    obs.onEvent(ev('detected', { role: 'primary', pid: 1, cause: 'missing after adoption' }));
    obs.onEvent(ev('give-up', { reason: 'no current copy of the data' }));
    const s = await scrape();
    expect(value(s, 'osps_exits_total', { role: 'primary', cause: 'exit 9' })).toBe(1);
    expect(value(s, 'osps_exits_total', { role: 'secondary', cause: 'other' })).toBe(1);
    expect(value(s, 'osps_failures_detected_total', { role: 'primary', cause: 'adoption' })).toBe(1);
    expect(value(s, 'osps_events_total', { event: 'give-up', role: 'none' })).toBe(1);
  });
});
