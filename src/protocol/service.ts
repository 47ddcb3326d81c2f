// The service-module contract (docs/SERVICE.md) as types: what a service author writes, and
// the error a handler throws to reject a request with its own code.
import type { Json } from './wire.js';

/** A code a service raises: docs/SERVICE.md, "Errors a service raises". */
export const SERVICE_ERROR_CODE = /^[A-Z][A-Z0-9_]{1,31}$/;
/** An op, command, query or timer name. */
export const SERVICE_OP_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
/** Ops osps answers itself; a service cannot define them. */
export const RESERVED_OPS = ['ping', 'info'] as const;

/** What a query sees besides the state. */
export interface QueryContext {
  /** Milliseconds since the epoch, chosen by the primary; never goes backwards. */
  readonly now: number;
  /** The client's request id. */
  readonly requestId: string;
}

/** What a command or a timer sees besides the state: everything a deterministic handler may use. */
export interface CommandContext extends QueryContext {
  /** A float in [0, 1), seeded per entry: the same sequence on the primary, the standby and a replay. */
  random(): number;
  /** Fires `timers[timer]` once, `delayMs` after `now`; returns the timer id. Survives failover and restarts. */
  schedule(timer: string, delayMs: number, payload?: Json): string;
  /** Cancels a pending timer; whether it was pending. */
  cancel(timerId: string): boolean;
}

// Method signatures, so that a definition of a concrete state type is also a
// ServiceDefinition<unknown>, which is what the host runs; each handler types its own args.
/** Changes the state; replicated, journaled, exactly once per request id. Synchronous and deterministic. */
export type CommandHandler<S> = { handle(state: S, args: Json, ctx: CommandContext): Json | undefined | void }['handle'];
/** Reads the state; answered by the primary, never replicated. Must not change the state. */
export type QueryHandler<S> = { handle(state: S, args: Json, ctx: QueryContext): Json | undefined | void }['handle'];
/** Fired later as a replicated entry (see CommandContext.schedule). */
export type TimerHandler<S> = { handle(state: S, payload: Json, ctx: CommandContext): void }['handle'];

/** One part of a large snapshot: a JSON value or raw bytes. */
export type SnapshotPart = Json | Uint8Array;

/** A service module's default export: a deterministic state machine (docs/SERVICE.md). */
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
  /** A JSON image of the state (default: the state), or an iterator of parts for a large one. */
  snapshot?(state: S): Json | Iterator<SnapshotPart> | Iterable<SnapshotPart>;
  /** The inverse of `snapshot`: receives the image, or an iterator over the same parts. */
  restore?(image: Json | IterableIterator<SnapshotPart>): S;
  /** Optional capability: how many keys the state holds, reported by `info` and status (else `keys: null`). */
  keyCount?(state: S): number;
}

/** Identity, for type inference: `export default defineService({ init() { … }, commands: { … } })`. */
export function defineService<S>(def: ServiceDefinition<S>): ServiceDefinition<S> {
  return def;
}

/** Thrown by a handler to reject a request: the client gets `{ok: false, error: {code, message}}`. */
export class ServiceError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    if (!SERVICE_ERROR_CODE.test(code)) throw new TypeError(`service error code '${code}' does not match ${SERVICE_ERROR_CODE}`);
    super(message);
    this.name = 'ServiceError';
    this.code = code;
  }
}
