// The service-module contract (SERVICE.md) as types: what the host runs, and what a
// service author writes. The built-in key-value service is written against exactly this.
import type { Json } from '../protocol/wire.js';

export type { Json };

/** One piece of a snapshot in parts: a JSON value or bytes. */
export type SnapshotPart = Json | Uint8Array;

export interface QueryContext {
  /** Milliseconds since the epoch; never behind any command's `ctx.now`. */
  readonly now: number;
  readonly requestId: string;
}

export interface CommandContext extends QueryContext {
  /** A float in [0, 1), seeded per entry: the same sequence on every copy. */
  random(): number;
  /** Fires `timers[timer]` once, `delayMs` after `now`; returns the timer id. */
  schedule(timer: string, delayMs: number, payload?: Json): string;
  /** Cancels a pending timer; returns whether it was pending. */
  cancel(timerId: string): boolean;
}

// Method signatures, so that a definition of a concrete state type is also a
// ServiceDefinition<unknown>, which is what the host runs.
export type CommandHandler<S> = { handle(state: S, args: Json, ctx: CommandContext): Json | undefined | void }['handle'];
export type QueryHandler<S> = { handle(state: S, args: Json, ctx: QueryContext): Json | undefined | void }['handle'];
export type TimerHandler<S> = { handle(state: S, payload: Json, ctx: CommandContext): void }['handle'];

export interface ServiceDefinition<S = unknown> {
  /** Shown by `info` and in logs. */
  name?: string;
  /** The state of an empty instance. */
  init(): S;
  /** Change state; replicated, journaled, exactly once per request id. */
  commands: Record<string, CommandHandler<S>>;
  /** Read state; answered by the primary, never replicated. */
  queries?: Record<string, QueryHandler<S>>;
  timers?: Record<string, TimerHandler<S>>;
  /** A JSON image of the state (default: the state), or an iterator of parts. */
  snapshot?(state: S): Json | Iterator<SnapshotPart> | Iterable<SnapshotPart>;
  /** The inverse of `snapshot`: receives the image, or an iterator over the same parts. */
  restore?(image: Json | IterableIterator<SnapshotPart>): S;
  /**
   * Optional capability of the host (not in SERVICE.md yet): how many keys the state holds,
   * reported by `info` and status. A service without it reports `keys: null`.
   */
  keyCount?(state: S): number;
}

/** The error a handler throws to reject a request with its own code (SERVICE.md "Errors"). */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Op names a service may define (SERVICE.md). */
export const OP_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
/** Codes a service may raise. */
export const SERVICE_CODE = /^[A-Z][A-Z0-9_]{1,31}$/;
/** Ops of osps itself, which a service cannot redefine. */
export const RESERVED_OPS: ReadonlySet<string> = new Set(['ping', 'info']);
