// The shape of a RESP command: what the table, the handlers and COMMAND share.
import { isUtf8 } from 'node:buffer';
import type { Json } from '../protocol/wire.js';
import type { RespBackend, RespReply } from './backend.js';
import * as enc from './encoder.js';

/** What a connection remembers between its commands. */
export interface Session {
  readonly id: number;
  name: string | null;
  /** Set by QUIT: the connection closes once this reply is written. */
  closeAfterReply: boolean;
}

/** A reply now, or later; a promise here never rejects. */
export type Outcome = Buffer | Promise<Buffer>;

export interface Ctx {
  readonly backend: RespBackend;
  readonly session: Session;
  /** Calls an op of the service as the kind (command or query) it is; never rejects. */
  call(op: string, args: Json): Promise<RespReply>;
  /** Whether the service has this op. */
  hasOp(op: string): boolean;
  /** Connections open on this front door, for INFO. */
  connectedClients(): number;
  /** Every command the table answers, for COMMAND. */
  specs(): readonly CommandSpec[];
}

export interface CommandSpec {
  /** Lower case, as Redis names commands. */
  name: string;
  /** Redis's convention: N exactly N arguments counting the name, -N at least N. */
  arity: number;
  flags: readonly string[];
  /** First key, last key, step (0 0 0 when no keys). */
  keys: readonly [number, number, number];
  group: string;
  summary: string;
  /** The service op the command needs (a built-in of the key-value service); absent: always there. */
  needs?: readonly string[];
  run(args: Buffer[], ctx: Ctx): Outcome;
}

export const NOT_TEXT = enc.error('ERR osps stores text: an argument is not valid UTF-8');

/** The argument as a string, or null if it is not UTF-8 (osps keys and values are JSON strings). */
export function text(b: Buffer): string | null {
  return isUtf8(b) ? b.toString('utf8') : null;
}

/** A strict decimal integer argument in the safe range, or null. */
export function integerArg(b: Buffer): number | null {
  const s = b.toString('latin1');
  if (!/^-?(0|[1-9]\d{0,15})$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

export function arityOk(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}
