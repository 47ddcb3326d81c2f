// Messages between the watchdog (ROUTER) and each server (DEALER) on the watchdog socket.
import type { Standby } from './standby.js';

export type Role = 'primary' | 'secondary';

export type ServerToWatchdog =
  | { t: 'hello'; token: string; pid: number; role: Role; epoch: number }
  | { t: 'pong'; seq: number; role: Role; epoch: number; commitSeq: number; keys: number; standby: Standby; synced: boolean }
  | { t: 'ready'; role: Role; epoch: number }
  | { t: 'promoted'; epoch: number; commitSeq: number }
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
  standby: { state: (v) => STANDBYS.includes(v), commitSeq: nat, peerPid: nat },
  synced: { commitSeq: nat },
  failed: { reason: str, code: (v) => v === undefined || str(v) },
  ping: { seq: nat, epoch: nat },
  promote: { epoch: nat },
  stop: {},
};

/** Never throws: null for anything that is not a known message with the fields of its type. */
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
  for (const [field, ok] of Object.entries(shape)) if (!ok((o as Record<string, unknown>)[field])) return null;
  return o as T;
}
