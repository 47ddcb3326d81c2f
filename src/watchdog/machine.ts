// The vocabulary of the supervision state machine (transition.ts): its state, the inputs
// it reacts to, and the actions it asks the executor (watchdog.ts) to carry out.
import type { Role, ServerToWatchdog, WatchdogToServer } from '../protocol/control.js';
import type { EventName, Fields } from '../protocol/events.js';
import type { Standby } from '../protocol/standby.js';
import type { ChildSpec } from './child-spec.js';

/** What the whole tree is doing. `adopting` = learning a dead predecessor's servers. */
export type Phase = 'starting' | 'adopting' | 'running' | 'failover' | 'stopping' | 'stopped';

/** One server's life as the watchdog sees it. `stopping` = we want it gone (condemned or asked to stop). */
export type ChildStatus = 'starting' | 'ready' | 'stopping' | 'exited';

/** The failover steps a successor watchdog reads in the state file to finish a failover. */
export type FailoverStep = 'detected' | 'fenced' | 'epoch-bumped' | 'promoting' | 'respawning';
export interface FailoverRecord {
  step: FailoverStep;
  oldPid: number;
  cause: string;
}

/** Runtime state of one server (its spec is in child-spec.ts, its telemetry in the executor). */
export interface ChildRun {
  token: string;
  role: Role;
  pid: number;
  startTime: number | null;
  spawnedAt: number;
  status: ChildStatus;
  /** Found alive by this watchdog rather than spawned by it. */
  adopted: boolean;
  /** Why the watchdog wants it gone (crash, hang, memory, link lost); null = healthy. */
  condemned: string | null;
  /** When the oldest ping still without an answer was sent: a ping unanswered for the alarm fires it too. */
  unansweredSince: number | null;
  /** The server's last sign of life: a message from it, or its heartbeat in shm. The alarm counts from it. */
  lastSignAt: number;
  /** Role and epoch the process reported in its last pong (adoption checks them). */
  reportedRole: Role | null;
  reportedEpoch: number | null;
  synced: boolean;
  standby: Standby;
  /** The standby pid a primary last reported about. */
  standbyPeer: number | null;
  /** When the primary reported its link to this standby gone (its exit may be on the way). */
  linkLostAt: number | null;
  commitSeq: number;
  exitedAt: number | null;
  lastExit: string | null;
  lastFailure: string | null;
  lastFailureCode: string | null;
}

/** The one recovery (or start, or stop) under way; everything else waits its turn. */
export type Job =
  /** A fresh start: the primary first; the standby once the primary serves, so the two never compete for the CPU while the first one boots. */
  | { kind: 'start'; step: 'spawning-primary' | 'awaiting-ready' | 'spawning-secondary' }
  | { kind: 'adopt'; step: 'learning'; until: number; oldPid: number | null; cause: string | null }
  | { kind: 'adopt'; step: 'fencing' | 'fencing-extras'; awaiting: string[]; oldPid: number | null; cause: string | null }
  | { kind: 'failover'; step: 'fencing'; old: string; oldPid: number; cause: string }
  | { kind: 'failover'; step: 'promoting'; candidate: string; until: number; oldPid: number; cause: string }
  | { kind: 'failover'; step: 'settling'; promoted: string; until: number; oldPid: number; cause: string }
  | { kind: 'failover'; step: 'checking-journal'; oldPid: number; cause: string }
  | { kind: 'failover'; step: 'clearing-standby'; stale: string; oldPid: number; cause: string }
  | { kind: 'failover'; step: 'spawning-primary' | 'spawning-secondary'; oldPid: number; cause: string }
  | { kind: 'failover'; step: 'awaiting-ready'; fresh: string; oldPid: number; cause: string }
  | { kind: 'replace-standby'; step: 'fencing'; old: string; oldPid: number; cause: string }
  | { kind: 'replace-standby'; step: 'releasing'; until: number; oldPid: number; cause: string }
  | { kind: 'replace-standby'; step: 'spawning'; cause: string }
  | { kind: 'give-up'; who: string; until: number }
  | { kind: 'stop'; queue: string[]; current: string | null; step: 'asking' | 'killing' | 'tearing-down'; until: number };

/** The servers' heartbeat words in the shm header (ms timestamps, 0 = none yet), by role slot. */
export interface Beats {
  primary: number;
  secondary: number;
}

/** Fixed settings of the machine: timing bounds, intensity, and the child specs. */
export interface Limits {
  pingIntervalMs: number;
  alarmMs: number;
  /** The servers' heartbeat period: silence past alarm + one period means stopped for at least the alarm. */
  heartbeatMs: number;
  readyTimeoutMs: number;
  maxRestarts: number;
  restartWindowMs: number;
  memoryCeilingBytes: number;
  /** Ping period while learning adopted servers' roles (faster than the steady ping). */
  adoptionPingMs: number;
  /** Longest wait for the primary to let go of a dead standby's link before replacing it. */
  standbyReleaseMs: number;
  /** How long a dead server's last message (its failure cause) may trail its exit. */
  lateMessageMs: number;
  /** Longest wait after a promotion for the new primary's journal before spawning the new standby. */
  standbySpawnDelayMs: number;
  /** First cool-down of a standby that keeps dying; doubles each time, up to the max. */
  standbyCooldownMs: number;
  standbyCooldownMaxMs: number;
  specs: Record<Role, ChildSpec>;
}

export interface SupervisorState {
  limits: Limits;
  name: string;
  endpoint: string;
  selfPid: number;
  phase: Phase;
  epoch: number;
  children: Record<string, ChildRun>;
  /** Tokens of the servers holding each role slot. */
  primary: string | null;
  secondary: string | null;
  job: Job | null;
  /** The failover under way, as recorded for a successor. */
  failover: FailoverRecord | null;
  /** Roles whose spawn was asked for and not yet reported. */
  pendingSpawns: Role[];
  /** Highest commitSeq a primary has reported: writes were acknowledged up to here. */
  servedCommitSeq: number;
  /** Restart times within the window, per role (the intensity counts them). */
  recentRestarts: Record<Role, number[]>;
  restarts: Record<Role, number>;
  /** A standby that kept dying is left out until `until`. */
  standbyCooldown: { until: number; ms: number } | null;
  nextCooldownMs: number;
  /** Standbys found diverged from the primary (a non-deterministic service), and the last one's reason. */
  diverged: { count: number; at: number; reason: string } | null;
  lastPingAt: number;
  exitCode: number;
}

/** A predecessor's servers, as its state file recorded them and /proc confirmed alive. */
export interface AdoptedServer {
  role: Role;
  pid: number;
  token: string;
  startTime: number | null;
}

export type Input =
  | { kind: 'start'; selfPid: number; epoch: number; adopt: { children: AdoptedServer[]; failover: FailoverRecord | null; restarts?: Record<Role, number> | null } | null }
  | { kind: 'spawned'; role: Role; token: string; pid: number; startTime: number | null }
  | { kind: 'spawn-failed'; role: Role; message: string }
  | { kind: 'exited'; token: string; cause: string; lastWords: { reason: string; code: string | null } | null }
  | { kind: 'message'; token: string; m: ServerToWatchdog }
  | { kind: 'reaped'; token: string }
  | { kind: 'journal-checked'; exists: boolean }
  | { kind: 'ping-due' }
  /** The clock moved; `beats`: the servers' heartbeat words read from shm just now. */
  | { kind: 'tick'; beats?: Beats }
  | { kind: 'memory'; token: string; rss: number }
  | { kind: 'stop'; code: number }
  | { kind: 'torn-down'; removed: string[] }
  | { kind: 'internal-error'; message: string };

export type Action =
  | { kind: 'spawn'; role: Role; repairIpc: boolean }
  | { kind: 'kill-and-reap'; token: string; pid: number; timeoutMs: number }
  | { kind: 'send'; token: string; m: WatchdogToServer }
  | { kind: 'ping'; tokens: string[]; epoch: number }
  | { kind: 'emit'; event: EventName; fields: Fields }
  | { kind: 'record'; step: FailoverStep | null }
  | { kind: 'set-ring-epoch'; epoch: number }
  | { kind: 'check-journal' }
  | { kind: 'say'; line: string }
  | { kind: 'forget'; token: string }
  | { kind: 'halt-watch' }
  | { kind: 'tear-down' }
  | { kind: 'exit'; code: number };

export function initialState(limits: Limits, name: string, endpoint: string): SupervisorState {
  return {
    limits,
    name,
    endpoint,
    selfPid: 0,
    phase: 'starting',
    epoch: 1,
    children: {},
    primary: null,
    secondary: null,
    job: null,
    failover: null,
    pendingSpawns: [],
    servedCommitSeq: 0,
    recentRestarts: { primary: [], secondary: [] },
    restarts: { primary: 0, secondary: 0 },
    standbyCooldown: null,
    diverged: null,
    nextCooldownMs: limits.standbyCooldownMs,
    lastPingAt: 0,
    exitCode: 0,
  };
}
