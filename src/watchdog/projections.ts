// Read-only views of the machine's state: the state file a successor reads, and `osps status`.
import type { InstanceStatus, ProcessStatus } from '../protocol/admin.js';
import type { Standby } from '../protocol/standby.js';
import type { WatchdogEvent } from '../protocol/events.js';
import type { ChildRun, SupervisorState } from './machine.js';
import type { WatchdogState } from './state-file.js';

/** What the watchdog measures of a server, apart from the state machine: for `status` only. */
export interface Telemetry {
  rttMs: number | null;
  lastPongAt: number | null;
  keys: number;
  cpu: number | null;
  rss: number | null;
}

export function emptyTelemetry(): Telemetry {
  return { rttMs: null, lastPongAt: null, keys: 0, cpu: null, rss: null };
}

/**
 * The state file: every process we know of that may be alive, including one spawned a moment
 * ago or being fenced: a successor must adopt (or fence) it, never leave it running unseen.
 */
export function toRecord(s: SupervisorState, self: { launcherPid: number | null; startTime: number | null }): WatchdogState {
  return {
    version: 1,
    name: s.name,
    endpoint: s.endpoint,
    launcherPid: self.launcherPid,
    watchdogPid: s.selfPid,
    watchdogStartTime: self.startTime,
    epoch: s.epoch,
    phase: s.phase,
    failover: s.failover,
    children: Object.values(s.children)
      .filter((c) => c.status !== 'exited')
      .map((c) => ({ role: c.role, pid: c.pid, token: c.token, startTime: c.startTime })),
    restarts: { ...s.restarts },
    updatedAt: new Date().toISOString(),
  };
}

export interface StatusInputs {
  now: number;
  startedAt: number;
  self: { cpu: number | null; rss: number | null };
  telemetry: (token: string) => Telemetry;
  config: InstanceStatus['config'];
  events: WatchdogEvent[];
}

export function toStatus(s: SupervisorState, x: StatusInputs): InstanceStatus {
  const live = [s.primary, s.secondary]
    .map((t) => (t === null ? undefined : s.children[t]))
    .filter((c): c is ChildRun => c !== undefined && c.status !== 'exited');
  const processes: ProcessStatus[] = [
    { role: 'watchdog', pid: s.selfPid, state: s.phase, uptimeMs: x.now - x.startedAt, cpu: x.self.cpu, rss: x.self.rss, lastPingRttMs: null, lastPongAgoMs: null, restarts: 0 },
    ...live.map((c) => {
      const t = x.telemetry(c.token);
      return {
        role: c.role,
        pid: c.pid,
        state: c.status,
        uptimeMs: x.now - c.spawnedAt,
        cpu: t.cpu,
        rss: t.rss,
        lastPingRttMs: t.rttMs,
        lastPongAgoMs: t.lastPongAt === null ? null : x.now - t.lastPongAt,
        restarts: s.restarts[c.role],
      };
    }),
  ];
  const primary = live.find((c) => c.token === s.primary);
  const window = (times: number[]) => times.filter((t) => t > x.now - s.limits.restartWindowMs).length;
  return {
    name: s.name,
    endpoint: s.endpoint,
    phase: s.phase,
    epoch: s.epoch,
    commitSeq: primary?.commitSeq ?? 0,
    standby: standbyOf(s, primary),
    processes,
    recentRestarts: window(s.recentRestarts.primary) + window(s.recentRestarts.secondary),
    diverged: s.diverged && { count: s.diverged.count, agoMs: x.now - s.diverged.at, reason: s.diverged.reason },
    standbyCooldown: s.standbyCooldown && { untilMs: s.standbyCooldown.until - x.now, cooldownMs: s.standbyCooldown.ms },
    config: x.config,
    events: x.events,
  };
}

/**
 * The standby as of the last event, not the last pong: the primary's word, unless the
 * watchdog has since seen that standby exit or condemned it, or spawned another (the
 * primary's own report of the loss may still be on its way).
 */
function standbyOf(s: SupervisorState, primary: ChildRun | undefined): Standby {
  const said = primary?.standby ?? 'absent';
  if (said === 'absent') return said;
  const sec = s.secondary === null ? undefined : s.children[s.secondary];
  if (!sec || sec.status === 'exited' || sec.condemned !== null) return 'absent';
  // The primary last spoke of another standby: this one has not paired yet.
  if (primary?.standbyPeer != null && primary.standbyPeer !== sec.pid) return 'absent';
  return said;
}
