// What the RESP front door needs from the server that mounts it. The front door imports
// nothing of the host: the primary passes an object with these four members.
import type { Role } from '../protocol/control.js';
import type { Standby } from '../protocol/standby.js';
import type { Json, Reply } from '../protocol/wire.js';

/** One op call. `id` is fresh for every call: RESP carries no request id. */
export interface RespRequest {
  id: string;
  op: string;
  args: Json;
}

/** A reply of PROTOCOL.md; the wire `Reply` (with its `id`) is one. */
export type RespReply = { ok: true; result: Json } | { ok: false; error: { code: string; message: string } };

type Assert<T extends true> = T;
/** Checked by the compiler: a wire Reply is a RespReply, so the host answers with what it has. */
export type WireReplyIsRespReply = Assert<Reply extends RespReply ? true : false>;

export interface RespInfo {
  role: Role;
  epoch: number;
  /** Log position of the last command committed. */
  commitSeq: number;
  standby: Standby;
  /** Keys held, or null for a service that does not count them. */
  keys: number | null;
  /** The service's name. */
  service: string;
}

export interface RespOps {
  commands: readonly string[];
  queries: readonly string[];
}

export interface RespBackend {
  /** A service command: replicated; resolves once durable (an ok means the standby has it). Never rejects by design. */
  command(req: RespRequest): Promise<RespReply>;
  /** A service query: answered by the primary after the commands in flight ahead of it. */
  query(req: RespRequest): Promise<RespReply>;
  info(): RespInfo;
  /** The service's op names. Cached by the front door while the same object is returned. */
  ops(): RespOps;
}
