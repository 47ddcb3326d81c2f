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

export function decodeControl<T extends ServerToWatchdog | WatchdogToServer>(b: Buffer): T | null {
  try {
    const o = JSON.parse(b.toString('utf8')) as unknown;
    if (typeof o === 'object' && o !== null && typeof (o as { t?: unknown }).t === 'string') return o as T;
  } catch {
    // fall through
  }
  return null;
}
