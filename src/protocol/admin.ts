// Requests the CLI sends to a running watchdog on its control socket (status, stop).
import type { Role } from './control.js';
import type { Standby } from './standby.js';

export type AdminRequest = { op: 'status' } | { op: 'stop' };

export interface ProcessStatus {
  role: Role | 'watchdog' | 'launcher';
  pid: number;
  state: string;
  uptimeMs: number;
  cpu: number | null;
  rss: number | null;
  lastPingRttMs: number | null;
  lastPongAgoMs: number | null;
  restarts: number;
}

export interface InstanceStatus {
  name: string;
  endpoint: string;
  phase: string;
  epoch: number;
  commitSeq: number;
  standby: Standby;
  processes: ProcessStatus[];
  recentRestarts: number;
  /** Set while a standby that kept dying is left out: the primary serves without one until then. */
  standbyCooldown?: { untilMs: number; cooldownMs: number } | null;
  config: { pingIntervalMs: number; alarmMs: number; memoryCeilingBytes: number; ringBytes: number; faultInjection?: boolean };
  events: Array<Record<string, unknown>>;
}

export type AdminReply = { ok: true; result: InstanceStatus | 'stopping' } | { ok: false; error: string };
