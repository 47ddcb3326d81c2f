// The endpoint's metrics, on a registry of their own (the process-global one stays empty,
// so nothing else in the watchdog can leak series into a scrape).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InstanceStatus } from '../protocol/admin.js';
import type { Role } from '../protocol/control.js';
import type { WatchdogEvent } from '../protocol/events.js';
import { MAX_FSYNC_SAMPLES, type ServerCounters } from '../protocol/server-metrics.js';
import type { Standby } from '../protocol/standby.js';
import { BoundedLabels, causeLabel, roleLabel } from './labels.js';
import { ServerTotals } from './server-totals.js';

const SERVER_ROLES = ['watchdog', 'primary', 'secondary'] as const;
const STANDBY_STATES: Standby[] = ['in-sync', 'syncing', 'absent'];
const PHASES = ['starting', 'running', 'failover', 'stopping', 'stopped'];
// The ping alarm is 3 s: a longer round trip is a missed ping, not a sample.
const RTT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3];
const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** What the dashboard reads besides the status: running totals of the server counters. */
export interface ServerView {
  writes: number;
  errors: number;
  commitSeq: number;
  lagEntries: number;
  lagBytes: number;
}

export class ObserverMetrics {
  readonly registry = new Registry();
  readonly view: ServerView = { writes: 0, errors: 0, commitSeq: 0, lagEntries: 0, lagBytes: 0 };
  private pendingCause: string | null = null;
  // A role with no live process keeps its last count, so the series never vanishes.
  private readonly restartCounts: Record<Role, number> = { primary: 0, secondary: 0 };
  private readonly totals = new ServerTotals();
  private readonly ops = new BoundedLabels();
  private readonly codes = new BoundedLabels();
  private readonly reg = { registers: [this.registry] };

  private readonly up = new Gauge({ name: 'osps_up', help: '1 for each live process of the tree, by role', labelNames: ['role'], ...this.reg });
  private readonly restarts = new Counter({ name: 'osps_restarts_total', help: 'Server restarts by role, as the watchdog recorded them', labelNames: ['role'], ...this.reg });
  private readonly exits = new Counter({ name: 'osps_exits_total', help: 'Server exits seen by this watchdog, by role and cause', labelNames: ['role', 'cause'], ...this.reg });
  private readonly detections = new Counter({ name: 'osps_failures_detected_total', help: 'Failures detected (detected events), by role and cause', labelNames: ['role', 'cause'], ...this.reg });
  private readonly failovers = new Counter({ name: 'osps_failovers_total', help: 'Completed failovers (promoted events), by role and the cause detected before', labelNames: ['role', 'cause'], ...this.reg });
  private readonly events = new Counter({ name: 'osps_events_total', help: 'Watchdog events by name and role', labelNames: ['event', 'role'], ...this.reg });
  private readonly rtt = new Histogram({ name: 'osps_ping_rtt_seconds', help: 'Ping round trip, watchdog to server and back', labelNames: ['role'], buckets: RTT_BUCKETS, ...this.reg });
  private readonly epoch = new Gauge({ name: 'osps_epoch', help: 'Current epoch (bumped by each failover)', ...this.reg });
  private readonly commit = new Gauge({ name: 'osps_commit_seq', help: 'Commit point: last sequence number both copies hold', ...this.reg });
  private readonly lagEntries = new Gauge({ name: 'osps_replication_lag_entries', help: 'Entries the standby has not acknowledged yet', ...this.reg });
  private readonly lagBytes = new Gauge({ name: 'osps_replication_lag_bytes', help: 'Bytes the standby has not acknowledged yet', ...this.reg });
  private readonly writes = new Counter({ name: 'osps_writes_total', help: 'Writes applied by the serving primary, by operation', labelNames: ['op'], ...this.reg });
  private readonly errors = new Counter({ name: 'osps_errors_total', help: 'Requests answered with an error, by code', labelNames: ['code'], ...this.reg });
  private readonly fsync = new Histogram({ name: 'osps_journal_fsync_seconds', help: 'Journal fsync latency on the primary', buckets: FSYNC_BUCKETS, ...this.reg });
  private readonly rss = new Gauge({ name: 'osps_process_resident_memory_bytes', help: 'Resident set size by role', labelNames: ['role'], ...this.reg });
  private readonly cpu = new Gauge({ name: 'osps_process_cpu_percent', help: 'CPU use by role, percent of one core', labelNames: ['role'], ...this.reg });
  private readonly timers = new Gauge({ name: 'osps_watchdog_timers', help: 'Timers active in the watchdog process (the endpoint\'s own included)', ...this.reg });
  private readonly standby = new Gauge({ name: 'osps_standby', help: '1 for the standby state the primary reports, 0 for the others', labelNames: ['state'], ...this.reg });
  private readonly phase = new Gauge({ name: 'osps_watchdog_phase', help: '1 for the watchdog\'s current phase, 0 for the others', labelNames: ['phase'], ...this.reg });

  onEvent(e: WatchdogEvent): void {
    const role = roleLabel(e.role);
    this.events.inc({ event: e.event, role });
    if (e.event === 'exited') this.exits.inc({ role, cause: causeLabel(e.cause) });
    if (e.event === 'detected') {
      const cause = causeLabel(e.cause);
      this.detections.inc({ role, cause });
      if (role === 'primary') this.pendingCause = cause;
    }
    if (e.event === 'promoted') {
      this.failovers.inc({ role, cause: this.pendingCause ?? 'unknown' });
      this.pendingCause = null;
    }
  }

  observePingRtt(role: Role, ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.rtt.observe({ role }, ms / 1000);
  }

  observeServerCounters(role: Role, pid: number, c: ServerCounters): void {
    const totals = { ...prefixed('w:', c.writesByOp), ...prefixed('e:', c.errorsByCode) };
    for (const [key, d] of this.totals.deltas(role, pid, totals)) {
      if (key.startsWith('w:')) {
        this.writes.inc({ op: this.ops.label(key.slice(2)) }, d);
        this.view.writes += d;
      } else {
        this.errors.inc({ code: this.codes.label(key.slice(2)) }, d);
        this.view.errors += d;
      }
    }
    if (role !== 'primary') return;
    this.view.commitSeq = c.commitSeq;
    this.view.lagEntries = c.replicationLag.entries;
    this.view.lagBytes = c.replicationLag.bytes;
    for (const ms of c.fsyncMs.slice(-MAX_FSYNC_SAMPLES)) if (Number.isFinite(ms) && ms >= 0) this.fsync.observe(ms / 1000);
  }

  /** Sets the gauges that mirror the watchdog's state; called once per scrape. */
  refresh(s: InstanceStatus): void {
    const live = s.processes.filter((p) => p.state !== 'exited');
    for (const role of SERVER_ROLES) this.up.set({ role }, live.filter((p) => p.role === role).length);
    // Taken from the status, not counted here: the watchdog's own count is what a successor keeps.
    this.rss.reset();
    this.cpu.reset();
    for (const p of live) {
      if (p.role === 'primary' || p.role === 'secondary') this.restartCounts[p.role] = p.restarts;
      if (p.rss !== null) this.rss.set({ role: p.role }, p.rss);
      if (p.cpu !== null) this.cpu.set({ role: p.role }, p.cpu);
    }
    this.restarts.reset();
    for (const [role, n] of Object.entries(this.restartCounts)) this.restarts.inc({ role }, n);
    this.epoch.set(s.epoch);
    this.commit.set(Math.max(s.commitSeq, this.view.commitSeq));
    this.lagEntries.set(this.view.lagEntries);
    this.lagBytes.set(this.view.lagBytes);
    this.timers.set(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length);
    for (const state of STANDBY_STATES) this.standby.set({ state }, s.standby === state ? 1 : 0);
    for (const phase of PHASES) this.phase.set({ phase }, s.phase === phase ? 1 : 0);
  }
}

/** One ServerTotals keeps both maps apart by a prefix on the key. */
function prefixed(p: string, m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) out[p + k] = v;
  return out;
}
