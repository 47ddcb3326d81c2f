// Requests the CLI sends to a running watchdog on its control socket (status, stop).
import type { Role } from './control.js';
import type { Standby } from './standby.js';

export type AdminRequest = { op: 'status' } | { op: 'stop' };

/**
 * The watchdog's reading of an admin request. Throws an Error naming what is wrong (the
 * control server answers it); never anything else, whatever the bytes.
 */
export function decodeAdminRequest(b: Uint8Array): AdminRequest {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
  } catch {
    throw new Error('not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not an object');
  const op = (o as { op?: unknown }).op;
  if (op === 'status' || op === 'stop') return { op };
  throw new Error(`unknown op ${JSON.stringify(op)?.slice(0, 40) ?? 'undefined'}`);
}

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
  /** Standbys found with a state digest other than the primary's (a non-deterministic service). */
  diverged?: { count: number; agoMs: number; reason: string } | null;
  config: { pingIntervalMs: number; alarmMs: number; memoryCeilingBytes: number; ringBytes: number; faultInjection?: boolean };
  events: Array<Record<string, unknown>>;
}

export type AdminReply = { ok: true; result: InstanceStatus | 'stopping' } | { ok: false; error: string };
