// Messages between the watchdog (ROUTER) and each server (DEALER) on the watchdog socket.
import { MAX_COUNTER_LABELS, MAX_FSYNC_SAMPLES, type ServerCounters } from './server-metrics.js';
import type { Standby } from './standby.js';

export type Role = 'primary' | 'secondary';

export type ServerToWatchdog =
  | { t: 'hello'; token: string; pid: number; role: Role; epoch: number }
  // `counters`: only a primary of an instance with metrics sends them; older servers never do.
  | { t: 'pong'; seq: number; role: Role; epoch: number; commitSeq: number; keys: number; standby: Standby; synced: boolean; counters?: ServerCounters }
  | { t: 'ready'; role: Role; epoch: number }
  | { t: 'promoted'; epoch: number; commitSeq: number }
  // A promoted primary's first journal checkpoint is on disk (its first writes are acknowledged from here).
  | { t: 'journaled'; epoch: number }
  | { t: 'standby'; state: Standby; commitSeq: number; peerPid: number }
  | { t: 'synced'; commitSeq: number }
  | { t: 'failed'; reason: string; code?: string };

export type WatchdogToServer =
  | { t: 'ping'; seq: number; epoch: number }
  | { t: 'promote'; epoch: number }
  | { t: 'stop' };

export function encodeControl(m: ServerToWatchdog | WatchdogToServer): Buffer {
  return Buffer.from(JSON.stringify(m));
}

const ROLES: readonly unknown[] = ['primary', 'secondary'];
const STANDBYS: readonly unknown[] = ['absent', 'syncing', 'in-sync'];
const nat = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const str = (v: unknown): boolean => typeof v === 'string';
const role = (v: unknown): boolean => ROLES.includes(v);

/** The fields each message type must carry, checked before anyone acts on it. */
const SHAPES: Record<string, Record<string, (v: unknown) => boolean>> = {
  hello: { token: str, pid: nat, role, epoch: nat },
  pong: { seq: nat, role, epoch: nat, commitSeq: nat, keys: nat, standby: (v) => STANDBYS.includes(v), synced: (v) => typeof v === 'boolean' },
  ready: { role, epoch: nat },
  promoted: { epoch: nat, commitSeq: nat },
  journaled: { epoch: nat },
  standby: { state: (v) => STANDBYS.includes(v), commitSeq: nat, peerPid: nat },
  synced: { commitSeq: nat },
  failed: { reason: str, code: (v) => v === undefined || str(v) },
  ping: { seq: nat, epoch: nat },
  promote: { epoch: nat },
  stop: {},
};

const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
// One label more than the cap: the reporter's own `other`.
const tally = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length <= MAX_COUNTER_LABELS + 1 && Object.values(v).every(nat);

function isServerCounters(v: unknown): v is ServerCounters {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  const lag = c.replicationLag as Record<string, unknown> | null;
  return (
    tally(c.writesByOp) &&
    tally(c.errorsByCode) &&
    nat(c.commitSeq) &&
    typeof lag === 'object' &&
    lag !== null &&
    nat(lag.entries) &&
    nat(lag.bytes) &&
    Array.isArray(c.fsyncMs) &&
    c.fsyncMs.length <= MAX_FSYNC_SAMPLES &&
    c.fsyncMs.every(finite)
  );
}

/**
 * Never throws: null for anything that is not a known message with the fields of its type.
 * A pong whose optional `counters` do not check out loses them, not the pong: it is still
 * the server's sign of life, and the alarm must not fire over a metrics field.
 */
export function decodeControl<T extends ServerToWatchdog | WatchdogToServer>(b: Buffer): T | null {
  let o: unknown;
  try {
    o = JSON.parse(b.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return null;
  const t = (o as { t?: unknown }).t;
  if (typeof t !== 'string' || !Object.hasOwn(SHAPES, t)) return null;
  const shape = SHAPES[t] as Record<string, (v: unknown) => boolean>;
  const m = o as Record<string, unknown>;
  for (const [field, ok] of Object.entries(shape)) if (!ok(m[field])) return null;
  if (t === 'pong' && Object.hasOwn(m, 'counters') && !isServerCounters(m.counters)) delete m.counters;
  return o as T;
}
